import { createHash } from "node:crypto";

/**
 * A strong secretbox key for tests, told apart by `label`: the SHA-256 of the label, standard base64
 * (32 bytes that pass the castle's strength rules, as a key from `openssl rand -base64 32` would).
 */
export function testSecretboxKey(label: string): string {
  return createHash("sha256").update(`castle-test-secretbox-key:${label}`).digest("base64");
}
