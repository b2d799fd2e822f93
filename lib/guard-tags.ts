/**
 * The running castle's marks: its control-plane VMs carry the secretbox key fingerprint and the Talos
 * version contract as Proxmox tags, so the re-keying guard can read what runs, not only what the
 * stack's state remembers.
 *
 * Proxmox tags allow letters, digits, `_`, `-`, `+` and `.`, and may not start with `-`, `+` or `.`
 * (pve-common's `pve-tag` format, `[a-z0-9_][a-z0-9_\-\+\.]*`, case-insensitive; PVE keeps them
 * lower-case in practice). A fingerprint is `sha256:<16 hex>`: its `:` becomes `-`.
 */

import { TALOS_CONTRACT_FORM } from "./talos-version";

/** PVE's tag format. */
export const PVE_TAG = /^[a-z0-9_][a-z0-9_+.-]*$/;

const KEY_PREFIX = "castle-key-";
const CONTRACT_PREFIX = "castle-contract-";
const FINGERPRINT = /^sha256:[0-9a-f]{16}$/;

/** The marks a control-plane VM carries, sorted. Throws when a value cannot be a tag. */
export function guardTags(values: { fingerprint: string; contract: string }): string[] {
  if (!FINGERPRINT.test(values.fingerprint)) {
    throw new Error(`key fingerprint ${JSON.stringify(values.fingerprint)} is not sha256:<16 hex digits>`);
  }
  if (!TALOS_CONTRACT_FORM.test(values.contract)) {
    throw new Error(`Talos contract ${JSON.stringify(values.contract)} is not v<major>.<minor>`);
  }
  const tags = [`${KEY_PREFIX}${values.fingerprint.replace(":", "-")}`, `${CONTRACT_PREFIX}${values.contract}`];
  for (const tag of tags) if (!PVE_TAG.test(tag)) throw new Error(`${tag} is not a valid Proxmox tag`);
  return tags.sort();
}

/** The fingerprint and contract a VM's tags carry (a field is absent when its tag is). */
export function readGuardTags(tags: readonly string[]): { fingerprint?: string; contract?: string } {
  const found: { fingerprint?: string; contract?: string } = {};
  for (const raw of tags) {
    const tag = raw.trim().toLowerCase();
    if (tag.startsWith(KEY_PREFIX)) {
      const fingerprint = tag.slice(KEY_PREFIX.length).replace(/^sha256-/, "sha256:");
      if (FINGERPRINT.test(fingerprint)) found.fingerprint = fingerprint;
    } else if (tag.startsWith(CONTRACT_PREFIX)) {
      const contract = tag.slice(CONTRACT_PREFIX.length);
      if (TALOS_CONTRACT_FORM.test(contract)) found.contract = contract;
    }
  }
  return found;
}
