/**
 * The etcd encryption check's pure parts, against snapshots of a real etcd (tests/fixtures/etcd, made
 * by make.ts there): the bbolt reader, the MVCC records, and the verdict on each Secret revision.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import nacl from "tweetnacl";
import { BoltDb, BoltFormatError, fnv1a64, readMeta } from "../lib/bbolt";
import { judgeSealedValue, judgeSecrets, TALOS_SECRETBOX_KEY_NAME } from "../lib/etcd-encryption";
import { decodeKeyValue, EtcdSnapshotError, readEtcdSnapshot } from "../lib/etcd-snapshot";
import {
  CANARY,
  DELETED_SECRET,
  INFISICAL_KEY,
  LARGE_SECRET,
  LARGE_SIZE,
  MANY_SECRETS,
  MIXED_FAILURES,
  OTHER_KEY,
  RESEALED_SECRET,
  SEALED_SECRETS,
  UPDATED_SECRET,
} from "./fixtures/etcd/keys";

const fixture = (name: string) => readFileSync(path.join(__dirname, "fixtures", "etcd", name));
const secretKeys = (records: ReturnType<typeof readEtcdSnapshot>["records"]) =>
  records.filter((r) => r.key.toString().startsWith("/registry/secrets/"));

describe("bbolt reader", () => {
  it("FNV-1a 64 matches Go's hash/fnv on known vectors", () => {
    assert.equal(fnv1a64(Buffer.from("")), 0xcbf29ce484222325n);
    assert.equal(fnv1a64(Buffer.from("a")), 0xaf63dc4c8601ec8cn);
    assert.equal(fnv1a64(Buffer.from("foobar")), 0x85944171f73967e8n);
  });

  it("reads etcd's buckets and an inline bucket (meta) of a real snapshot", () => {
    const file = fixture("sealed.db");
    const db = new BoltDb(file.subarray(0, file.length - 32));
    assert.equal(db.meta.pageSize, 4096);
    for (const bucket of ["key", "meta", "members", "lease", "auth"]) assert.ok(db.buckets().includes(bucket), bucket);
    assert.deepEqual(
      db.entries(["meta"])?.map((e) => e.key.toString()),
      ["consistent_index"],
    );
    assert.ok(db.pageKinds.inline >= 1, "meta is an inline bucket");
    assert.equal(db.entries(["no-such-bucket"]), undefined);
  });

  it("follows branch pages and overflow pages (many.db)", () => {
    const file = fixture("many.db");
    const db = new BoltDb(file.subarray(0, file.length - 32));
    const entries = db.entries(["key"]) ?? [];
    assert.equal(entries.length, MANY_SECRETS + 1);
    assert.ok(db.pageKinds.branch >= 1, `branch pages: ${JSON.stringify(db.pageKinds)}`);
    assert.ok(db.pageKinds.leaf >= 3, `leaf pages: ${JSON.stringify(db.pageKinds)}`);
    assert.ok(db.pageKinds.overflow >= 2, `overflow pages: ${JSON.stringify(db.pageKinds)}`);
    // In key order, as bbolt's cursor walks them: revisions ascend.
    const revisions = entries.map((e) => e.key.readBigUInt64BE(0));
    assert.deepEqual(
      revisions,
      [...revisions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  });

  it("falls back to the other meta page when the newer one is damaged, as bbolt does", () => {
    // A snapshot is written by bbolt's Tx.WriteTo (etcd-io/bbolt v1.4.3 tx.go): meta 0 carries the
    // transaction id, meta 1 the same page with the id minus one.
    const file = Buffer.from(fixture("sealed.db"));
    const db = file.subarray(0, file.length - 32);
    const meta = readMeta(db);
    db[16 + 20] ^= 0xff; // meta 0, inside the root bucket's pgid: its checksum no longer matches
    const fallback = readMeta(db);
    assert.equal(fallback.txid, meta.txid - 1n);
    assert.equal(fallback.pageSize, meta.pageSize, "the page size is found from meta 1");
    db[meta.pageSize + 16] ^= 0xff; // the magic of meta 1 too
    assert.throws(() => readMeta(db), BoltFormatError);
  });

  it("refuses what is not a bbolt file, and a truncated one, with a reason", () => {
    assert.throws(() => readMeta(Buffer.alloc(8192)), /not a readable bbolt database: page is not a meta page/);
    const file = fixture("many.db");
    const truncated = file.subarray(0, 3 * 4096);
    assert.throws(() => new BoltDb(truncated).entries(["key"]), /past the end of the file|outside/);
  });
});

describe("etcd snapshot", () => {
  it("agrees with etcdctl snapshot status on the fixture (etcdctl 3.4.23: totalKey 17, revision 14)", () => {
    // `etcdctl snapshot status mixed.db -w json` counts the entries of every top-level bucket.
    const file = fixture("mixed.db");
    const db = new BoltDb(file.subarray(0, file.length - 32));
    assert.equal(
      db.buckets().reduce((sum, bucket) => sum + (db.entries([bucket])?.length ?? 0), 0),
      17,
    );
    const { records } = readEtcdSnapshot(file);
    assert.equal(Math.max(...records.map((r) => r.revision)), 14);
  });

  it("checks the SHA-256 trailer etcd appends, and refuses a damaged file", () => {
    const file = Buffer.from(fixture("sealed.db"));
    assert.equal(file.length % 512, 32);
    assert.equal(readEtcdSnapshot(file).hashChecked, true);
    file[5000] ^= 0x01;
    assert.throws(
      () => readEtcdSnapshot(file),
      (e: Error) => e instanceof EtcdSnapshotError && /SHA-256/.test(e.message),
    );
  });

  it("reads a bare database file (no trailer) alike", () => {
    const file = fixture("sealed.db");
    const bare = readEtcdSnapshot(file.subarray(0, file.length - 32));
    assert.equal(bare.hashChecked, false);
    assert.equal(bare.records.length, readEtcdSnapshot(file).records.length);
  });

  it("decodes every revision: updates keep the older one, a deletion is a tombstone", () => {
    const { records } = readEtcdSnapshot(fixture("sealed.db"));
    const secrets = secretKeys(records);
    const updated = secrets.filter((r) => r.key.toString() === `/registry/secrets/${UPDATED_SECRET}`);
    assert.deepEqual(
      updated.map((r) => [r.version, r.createRevision === updated[0].modRevision]),
      [
        [1, true],
        [2, true],
      ],
    );
    const deleted = secrets.filter((r) => r.key.toString() === `/registry/secrets/${DELETED_SECRET}`);
    assert.deepEqual(
      deleted.map((r) => r.tombstone),
      [false, true],
    );
    assert.equal(deleted[1].value.length, 0);
    assert.ok(records.some((r) => r.key.toString() === "/registry/configmaps/apps/settings"));
  });

  it("decodes a KeyValue with fields it does not know (lease, a future field)", () => {
    // key=1 "k", create=2 5, mod=3 6, version=4 1, value=5 "v", lease=6 7, field 9 varint 1
    const bytes = Buffer.from([0x0a, 1, 0x6b, 0x10, 5, 0x18, 6, 0x20, 1, 0x2a, 1, 0x76, 0x30, 7, 0x48, 1]);
    const kv = decodeKeyValue(bytes);
    assert.deepEqual(
      [kv.key.toString(), kv.createRevision, kv.modRevision, kv.version, kv.value.toString()],
      ["k", 5, 6, 1, "v"],
    );
  });
});

describe("judging Secrets", () => {
  it("passes a snapshot where every Secret revision opens with the key", () => {
    const report = judgeSecrets(readEtcdSnapshot(fixture("sealed.db")).records, INFISICAL_KEY);
    assert.deepEqual(report.unsealed, []);
    assert.equal(report.secrets, SEALED_SECRETS.length + 1); // and the deleted one
    assert.equal(report.secretRevisions, 5); // 3 Secrets, one updated, the deleted one's only value
    assert.equal(report.sealed, 5);
  });

  it("passes many Secrets across pages, a large one included", () => {
    const report = judgeSecrets(readEtcdSnapshot(fixture("many.db")).records, INFISICAL_KEY);
    assert.equal(report.sealed, MANY_SECRETS + 1);
    assert.deepEqual(report.unsealed, []);
    const large = readEtcdSnapshot(fixture("many.db")).records.find((r) => r.key.toString().endsWith(LARGE_SECRET));
    assert.ok((large?.value.length ?? 0) > LARGE_SIZE);
  });

  it("names each Secret stored in plain text, under another key or provider, older revisions included", () => {
    const report = judgeSecrets(readEtcdSnapshot(fixture("mixed.db")).records, INFISICAL_KEY);
    assert.deepEqual(
      Object.fromEntries(report.unsealed.map((u) => [u.secret, u.reason])),
      MIXED_FAILURES as Record<string, string>,
    );
    const resealed = report.unsealed.find((u) => u.secret === RESEALED_SECRET);
    assert.equal(resealed?.latest, false, "the plain older revision is found though the newest is sealed");
    assert.ok(report.unsealed.filter((u) => u.secret !== RESEALED_SECRET).every((u) => u.latest));
    assert.equal(report.sealed, 6);
  });

  it("with another key, nothing opens", () => {
    const report = judgeSecrets(readEtcdSnapshot(fixture("sealed.db")).records, OTHER_KEY);
    assert.equal(report.sealed, 0);
    assert.ok(report.unsealed.every((u) => u.reason === "does-not-open"));
  });

  it("never carries decrypted content or the key in what it reports", () => {
    const report = judgeSecrets(readEtcdSnapshot(fixture("mixed.db")).records, INFISICAL_KEY);
    const text = JSON.stringify(report);
    assert.ok(!text.includes(CANARY));
    assert.ok(!text.includes(Buffer.from(INFISICAL_KEY).toString("base64")));
  });

  it("judges single values: kube-apiserver's layout, a wrong key name, cut-short and unknown bytes", () => {
    const key = INFISICAL_KEY;
    const nonce = new Uint8Array(24).fill(7);
    const sealed = (name: string, k: Uint8Array) =>
      Buffer.concat([Buffer.from(`k8s:enc:secretbox:v1:${name}:`), nonce, nacl.secretbox(Buffer.from("x"), nonce, k)]);
    assert.deepEqual(judgeSealedValue(sealed(TALOS_SECRETBOX_KEY_NAME, key), key, "key2"), { ok: true });
    assert.equal(judgeSealedValue(sealed("key1", key), key, "key2").ok, false);
    assert.match(JSON.stringify(judgeSealedValue(sealed("key1", key), key, "key2")), /other-key-name/);
    assert.match(
      JSON.stringify(judgeSealedValue(Buffer.from("k8s:enc:secretbox:v1:key2:short"), key, "key2")),
      /too-short/,
    );
    assert.match(JSON.stringify(judgeSealedValue(Buffer.from('{"kind":"Secret"}'), key, "key2")), /plaintext/);
    assert.match(JSON.stringify(judgeSealedValue(Buffer.from([1, 2, 3]), key, "key2")), /unknown/);
    assert.match(
      JSON.stringify(judgeSealedValue(Buffer.from("k8s:enc:kms:v2:vault:\u0000secret"), key, "key2")),
      /other-provider.*k8s:enc:kms:v2:vault:\)/,
    );
    assert.throws(() => judgeSecrets([], new Uint8Array(16)), /16 bytes, not 32/);
  });
});
