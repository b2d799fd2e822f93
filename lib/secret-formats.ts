/**
 * Format checks of secret values the castle reads: what a usable value looks like. Pure; an answer
 * never quotes the value it judges.
 */

const BASE64_STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Why `value` is not an etcd secretbox key (standard base64, with padding, of exactly 32 bytes),
 * or undefined when it is one. The answer never quotes the value.
 */
export function secretboxKeyProblem(value: string): string | undefined {
  const generate = "generate one with: head -c 32 /dev/urandom | base64";
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

/** `user@realm!tokenname`, as Proxmox VE writes API token ids. */
const PROXMOX_TOKEN_ID = /^[^\s:/!]+@[A-Za-z][A-Za-z0-9._-]*![A-Za-z][A-Za-z0-9._-]*$/;

/** Why `value` is not a Proxmox API token id, or undefined. Never quotes the value. */
export function proxmoxTokenIdProblem(value: string): string | undefined {
  if (PROXMOX_TOKEN_ID.test(value)) return undefined;
  return "is not a Proxmox API token id of the form user@realm!tokenname (e.g. castle@pve!pulumi)";
}
