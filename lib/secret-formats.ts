/**
 * Format checks of secret values the castle reads: what a usable value looks like. Pure; an answer
 * never quotes the value it judges.
 */

/** How to make a good key, for every message about a weak or malformed one. */
export const GENERATE_SECRETBOX_KEY = "generate one with: openssl rand -base64 32";

import { shannonEntropy } from "./secret-like";

const BASE64_STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Why `value` is not an etcd secretbox key (standard base64, with padding, of exactly 32 bytes),
 * or undefined when it is one. The answer never quotes the value.
 */
export function secretboxKeyProblem(value: string): string | undefined {
  const generate = GENERATE_SECRETBOX_KEY;
  if (value.length === 0) return "is empty";
  if (/\s/.test(value)) return "contains whitespace or a line break; store the 44-character base64 text alone";
  if (/[-_]/.test(value) && !/[+/]/.test(value) && /^[A-Za-z0-9_-]*={0,2}$/.test(value)) {
    return "uses the URL-safe base64 alphabet ('-' and '_'); the secretbox key must be standard base64 ('+' and '/')";
  }
  if (!BASE64_STANDARD.test(value)) {
    return "is not standard base64 (only A-Z, a-z, 0-9, '+', '/' and trailing '=' padding are allowed)";
  }
  if (value.length % 4 !== 0) {
    return `is not padded base64 (its length, ${value.length}, is not a multiple of 4); ${generate}`;
  }
  const bytes = Buffer.from(value, "base64");
  if (bytes.length !== 32) return `decodes to ${bytes.length} bytes, expected exactly 32; ${generate}`;
  if (bytes.toString("base64") !== value) return "is not canonical base64 (stray bits before the '=' padding)";
  return undefined;
}

/**
 * Least Shannon entropy, in bits per byte, of a secretbox key's 32 bytes. 32 uniformly random bytes
 * reach about 4.8 (at most 5: 32 distinct values); falling under 4 takes fewer than about 18 distinct
 * values among the 32, which a random key does with a probability far below 2^-60. A patterned key
 * (a repeated word, a counter, a few distinct bytes) lands below.
 */
export const MIN_SECRETBOX_KEY_ENTROPY = 4;

/**
 * Why a well-formed secretbox key (see `secretboxKeyProblem`) is too weak to guard etcd, or undefined.
 * The key's fingerprint is published in Proxmox tags, so anyone with VM.Audit could confirm a guessable
 * key offline: all one byte (32 zero bytes), printable ASCII only (a passphrase, or `castle render`'s
 * placeholder), or too few distinct bytes. The answer never quotes the key.
 */
export function weakSecretboxKeyProblem(value: string): string | undefined {
  const bytes = Buffer.from(value, "base64");
  if (bytes.length === 0) return undefined; // reported by secretboxKeyProblem
  if (bytes.every((byte) => byte === bytes[0])) {
    return `is one byte repeated 32 times, not a random key; ${GENERATE_SECRETBOX_KEY}`;
  }
  if (bytes.every((byte) => byte >= 0x20 && byte <= 0x7e)) {
    return `decodes to printable text only (a passphrase or a placeholder), not 32 random bytes; ${GENERATE_SECRETBOX_KEY}`;
  }
  const entropy = shannonEntropy(bytes);
  if (entropy < MIN_SECRETBOX_KEY_ENTROPY) {
    return `has too little entropy (${entropy.toFixed(2)} bits per byte, at least ${MIN_SECRETBOX_KEY_ENTROPY} expected of 32 random bytes); ${GENERATE_SECRETBOX_KEY}`;
  }
  return undefined;
}

/** `user@realm!tokenname`, as Proxmox VE writes API token ids. */
const PROXMOX_TOKEN_ID = /^[^\s:/!]+@[A-Za-z][A-Za-z0-9._-]*![A-Za-z][A-Za-z0-9._-]*$/;

/** Why `value` is not a Proxmox API token id, or undefined. Never quotes the value. */
export function proxmoxTokenIdProblem(value: string): string | undefined {
  if (PROXMOX_TOKEN_ID.test(value)) return undefined;
  return "is not a Proxmox API token id of the form user@realm!tokenname (e.g. castle@pve!pulumi)";
}
