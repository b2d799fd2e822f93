/**
 * Is every Kubernetes Secret in etcd sealed with the castle's secretbox key? Pure: takes the records of
 * an etcd snapshot (lib/etcd-snapshot.ts) and the key, returns a verdict per revision. Nothing it
 * decrypts leaves this module: a box that opens is counted, its content dropped.
 *
 * How kube-apiserver seals a value (kubernetes/kubernetes v1.36, staging/src/k8s.io/apiserver):
 * - pkg/server/options/encryptionconfig/config.go: the secretbox provider's transformer is a
 *   PrefixTransformer with prefix `k8s:enc:secretbox:v1:<key name>:` (`secretboxTransformerPrefixV1`);
 * - pkg/storage/value/encrypt/secretbox/secretbox.go: `TransformToStorage` writes a random 24-byte
 *   nonce, then `secretbox.Seal(nonce, data, key)` (XSalsa20-Poly1305, 16-byte tag);
 *   `TransformFromStorage` refuses data shorter than nonce + overhead and opens the rest.
 * - an unencrypted Secret (the `identity` provider) is stored as Kubernetes' protobuf encoding, which
 *   starts with the magic `k8s\0` (apimachinery pkg/runtime/serializer/protobuf/protobuf.go).
 *
 * Talos names the secretbox key `key2` (siderolabs/talos v1.13.9
 * internal/app/machined/pkg/controllers/k8s/internal/k8stemplates/apiserver.go `APIServerEncryptionConfig`:
 * providers secretbox `key2`, then aescbc `key1` when a legacy key is set, then identity), so every
 * Secret written since the cluster's first second carries `k8s:enc:secretbox:v1:key2:`.
 */
import nacl from "tweetnacl";
import type { EtcdRecord } from "./etcd-snapshot";

/** The secretbox key name in Talos's EncryptionConfiguration. */
export const TALOS_SECRETBOX_KEY_NAME = "key2";

/** Where Kubernetes keeps Secrets in etcd: `/registry/secrets/<namespace>/<name>`. */
export const SECRETS_PREFIX = "/registry/secrets/";

const ENCRYPTED_PREFIX = "k8s:enc:";
const PROTOBUF_MAGIC = Buffer.from("k8s\0", "latin1");

/** What one stored value is. */
export type SealVerdict =
  | { ok: true }
  | {
      ok: false;
      /** `plaintext`, `other-provider`, `other-key-name`, `does-not-open`, `too-short`, `unknown`. */
      reason: "plaintext" | "other-provider" | "other-key-name" | "does-not-open" | "too-short" | "unknown";
      /** Said without any of the value's content beyond its encryption prefix. */
      detail: string;
    };

/**
 * Judges one stored value against the key (32 bytes) and key name. Only the encryption prefix is ever
 * quoted; the content is never read beyond opening the box.
 */
export function judgeSealedValue(value: Uint8Array, key: Uint8Array, keyName: string): SealVerdict {
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const expected = Buffer.from(`${ENCRYPTED_PREFIX}secretbox:v1:${keyName}:`, "latin1");
  if (bytes.subarray(0, expected.length).equals(expected)) {
    const sealed = bytes.subarray(expected.length);
    if (sealed.length < nacl.secretbox.nonceLength + nacl.secretbox.overheadLength) {
      return {
        ok: false,
        reason: "too-short",
        detail: `sealed value of ${sealed.length} bytes is shorter than nonce and tag`,
      };
    }
    const nonce = sealed.subarray(0, nacl.secretbox.nonceLength);
    const box = sealed.subarray(nacl.secretbox.nonceLength);
    const opened = nacl.secretbox.open(box, nonce, key);
    if (opened === null) {
      return {
        ok: false,
        reason: "does-not-open",
        detail: `sealed under ${keyName} but does not open with the key from Infisical`,
      };
    }
    opened.fill(0);
    return { ok: true };
  }
  if (bytes.subarray(0, PROTOBUF_MAGIC.length).equals(PROTOBUF_MAGIC)) {
    return { ok: false, reason: "plaintext", detail: "stored in plain text (Kubernetes protobuf, k8s\\0)" };
  }
  if (bytes[0] === 0x7b) return { ok: false, reason: "plaintext", detail: "stored in plain text (JSON)" };
  if (bytes.subarray(0, ENCRYPTED_PREFIX.length).toString("latin1") === ENCRYPTED_PREFIX) {
    // `k8s:enc:<provider>:v1:<key name>:` — quote the prefix only, up to its fifth colon.
    const prefix = encryptionPrefix(bytes);
    if (prefix.startsWith(`${ENCRYPTED_PREFIX}secretbox:v1:`)) {
      return { ok: false, reason: "other-key-name", detail: `sealed by secretbox under another key name (${prefix})` };
    }
    return { ok: false, reason: "other-provider", detail: `sealed by another provider (${prefix})` };
  }
  return { ok: false, reason: "unknown", detail: "neither sealed nor a Kubernetes encoding" };
}

/** `k8s:enc:<provider>:<version>:<name>:`, printable characters only, at most 80 of them. */
function encryptionPrefix(bytes: Buffer): string {
  let colons = 0;
  let end = 0;
  while (end < bytes.length && end < 80 && colons < 5) {
    if (bytes[end] < 0x20 || bytes[end] > 0x7e) break;
    if (bytes[end] === 0x3a) colons++;
    end++;
  }
  return bytes.subarray(0, end).toString("latin1");
}

/** One Secret revision that is not sealed as it must be. */
export interface UnsealedSecret {
  /** `namespace/name`. */
  secret: string;
  revision: number;
  /** Whether this is the key's newest revision in the snapshot (or an older one etcd still keeps). */
  latest: boolean;
  reason: Exclude<SealVerdict, { ok: true }>["reason"];
  detail: string;
}

export interface EncryptionReport {
  /** Revisions read in the snapshot (all keys, tombstones included). */
  records: number;
  /** Secret revisions judged (tombstones have no value and are not). */
  secretRevisions: number;
  /** Distinct Secrets among them. */
  secrets: number;
  /** Revisions that opened with the key. */
  sealed: number;
  unsealed: UnsealedSecret[];
}

/** `namespace/name` of a `/registry/secrets/<namespace>/<name>` key (printable form). */
function secretName(key: Buffer): string {
  return key
    .subarray(SECRETS_PREFIX.length)
    .toString("utf8")
    .replace(/[^\x20-\x7e]/g, "?");
}

/** Judges every revision of every key under `/registry/secrets/`. */
export function judgeSecrets(
  records: readonly EtcdRecord[],
  key: Uint8Array,
  keyName: string = TALOS_SECRETBOX_KEY_NAME,
): EncryptionReport {
  if (key.length !== nacl.secretbox.keyLength) {
    throw new Error(`the secretbox key is ${key.length} bytes, not ${nacl.secretbox.keyLength}`);
  }
  const prefix = Buffer.from(SECRETS_PREFIX, "latin1");
  const secrets = records.filter((r) => r.key.subarray(0, prefix.length).equals(prefix));
  const newest = new Map<string, number>();
  for (const r of secrets) {
    const name = secretName(r.key);
    newest.set(name, Math.max(newest.get(name) ?? 0, r.revision));
  }
  const report: EncryptionReport = {
    records: records.length,
    secretRevisions: 0,
    secrets: newest.size,
    sealed: 0,
    unsealed: [],
  };
  for (const r of secrets) {
    if (r.tombstone) continue;
    report.secretRevisions++;
    const verdict = judgeSealedValue(r.value, key, keyName);
    if (verdict.ok) {
      report.sealed++;
      continue;
    }
    const name = secretName(r.key);
    report.unsealed.push({
      secret: name,
      revision: r.revision,
      latest: newest.get(name) === r.revision,
      reason: verdict.reason,
      detail: verdict.detail,
    });
  }
  return report;
}
