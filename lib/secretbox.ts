/**
 * The etcd encryption key of the castle's Kubernetes Secrets: pure helpers.
 *
 * Talos hands `cluster.secretboxEncryptionSecret` to kube-apiserver as its `secretbox` provider:
 * XSalsa20-Poly1305 (NaCl secretbox) with a 32-byte key and a random 24-byte nonce per value.
 * It is not AES-GCM. The key must be set when the cluster is created and never changed: Talos
 * always names it `key2`, so a new key under the same name cannot decrypt what the old one wrote.
 */
import { createHash } from "node:crypto";
import { stringify } from "yaml";

/**
 * A non-secret fingerprint of a secretbox key: `sha256:` and the first 16 hex characters (64 bits)
 * of the SHA-256 of the 32 decoded key bytes. It tells two keys apart; it cannot lead back to the key
 * (the key is 256 random bits, and SHA-256 is preimage-resistant).
 */
export function secretboxKeyFingerprint(key: string): string {
  const digest = createHash("sha256").update(Buffer.from(key, "base64")).digest("hex");
  return `sha256:${digest.slice(0, 16)}`;
}

/** The control-plane patch that sets the key: `cluster.secretboxEncryptionSecret` (a v1alpha1 strategic-merge patch). */
export function renderSecretboxPatch(key: string): string {
  return stringify({ cluster: { secretboxEncryptionSecret: key } }, { version: "1.1", lineWidth: 0 });
}
