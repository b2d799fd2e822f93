/**
 * etcd's MVCC store, read from a snapshot file: every revision of every key the database still holds.
 *
 * - A snapshot (`etcdctl snapshot save`, `talosctl etcd snapshot`) is the bbolt database followed by
 *   the SHA-256 of the database: etcd-io/etcd v3.6.12 server/etcdserver/api/v3rpc/maintenance.go
 *   (`Snapshot` sends the hash last) and client/v3/snapshot/v3_snapshot.go (a snapshot has one when
 *   `size % 512 == sha256.Size`; talosctl checks the same, siderolabs/talos v1.13.9
 *   cmd/talosctl/cmd/talos/etcd.go). A bare database file (`member/snap/db`) has no hash.
 * - The MVCC store is the bbolt bucket `key` (server/storage/schema/bucket.go): each bbolt key is a
 *   revision, 8-byte big-endian main revision, `_`, 8-byte big-endian sub revision, and a trailing
 *   `t` for a tombstone (a deletion) (server/storage/mvcc/revision.go); each value is a protobuf
 *   `mvccpb.KeyValue` (api/mvccpb/kv.proto: key 1, create_revision 2, mod_revision 3, version 4,
 *   value 5, lease 6).
 */
import { createHash } from "node:crypto";
import { Reader } from "protobufjs/minimal";
import { BoltDb } from "./bbolt";

export class EtcdSnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EtcdSnapshotError";
  }
}

/** One revision of one key. */
export interface EtcdRecord {
  /** Main and sub revision of this write. */
  revision: number;
  sub: number;
  /** A deletion: no value. */
  tombstone: boolean;
  key: Buffer;
  value: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
}

export interface EtcdSnapshot {
  /** Whether the file carried etcd's SHA-256 trailer (and it matched: a mismatch throws). */
  hashChecked: boolean;
  /** The bbolt page size and the meta's transaction id. */
  pageSize: number;
  txid: bigint;
  records: EtcdRecord[];
  /** bbolt pages read to find them. */
  pagesRead: number;
}

const SHA256_SIZE = 32;
const REV_BYTES = 17;

/** A protobuf int64 as protobufjs returns it (a number, or a Long when the `long` package is there). */
function int64(value: number | { toString(): string }): number {
  return typeof value === "number" ? value : Number(value.toString());
}

/** Decodes one `mvccpb.KeyValue`, skipping fields it does not know (as protobuf readers must). */
export function decodeKeyValue(bytes: Uint8Array): Omit<EtcdRecord, "revision" | "sub" | "tombstone"> {
  const reader = Reader.create(bytes);
  const record = { key: Buffer.alloc(0), value: Buffer.alloc(0), createRevision: 0, modRevision: 0, version: 0 };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (tag >>> 3) {
      case 1:
        record.key = Buffer.from(reader.bytes());
        break;
      case 2:
        record.createRevision = int64(reader.int64());
        break;
      case 3:
        record.modRevision = int64(reader.int64());
        break;
      case 4:
        record.version = int64(reader.int64());
        break;
      case 5:
        record.value = Buffer.from(reader.bytes());
        break;
      default:
        reader.skipType(tag & 7);
    }
  }
  return record;
}

/** Splits off and checks etcd's SHA-256 trailer when the size says there is one. */
function database(file: Buffer): { db: Buffer; hashChecked: boolean } {
  if (file.length % 512 !== SHA256_SIZE) return { db: file, hashChecked: false };
  const db = file.subarray(0, file.length - SHA256_SIZE);
  const expected = file.subarray(file.length - SHA256_SIZE);
  if (!createHash("sha256").update(db).digest().equals(expected)) {
    throw new EtcdSnapshotError("the snapshot's SHA-256 trailer does not match its contents: the file is damaged");
  }
  return { db, hashChecked: true };
}

/** Every revision in the snapshot's `key` bucket, oldest first. Throws EtcdSnapshotError on a damaged file. */
export function readEtcdSnapshot(file: Buffer): EtcdSnapshot {
  const { db, hashChecked } = database(file);
  let bolt: BoltDb;
  let entries: ReturnType<BoltDb["entries"]>;
  try {
    bolt = new BoltDb(db);
    entries = bolt.entries(["key"]);
  } catch (error) {
    throw new EtcdSnapshotError((error as Error).message);
  }
  if (entries === undefined) {
    throw new EtcdSnapshotError(`the database has no "key" bucket (buckets: ${bolt.buckets().join(", ") || "none"})`);
  }
  const records = entries.map(({ key, value }, i): EtcdRecord => {
    const marked = key.length === REV_BYTES + 1 && key[REV_BYTES] === 0x74; // 't'
    if (!(key.length === REV_BYTES || marked) || key[8] !== 0x5f) {
      throw new EtcdSnapshotError(`record ${i} of the key bucket has no revision key (${key.length} bytes)`);
    }
    let decoded: ReturnType<typeof decodeKeyValue>;
    try {
      decoded = decodeKeyValue(value);
    } catch (error) {
      throw new EtcdSnapshotError(`record ${i} of the key bucket is not a KeyValue: ${(error as Error).message}`);
    }
    return {
      revision: Number(key.readBigUInt64BE(0)),
      sub: Number(key.readBigUInt64BE(9)),
      tombstone: marked,
      ...decoded,
    };
  });
  return { hashChecked, pageSize: bolt.meta.pageSize, txid: bolt.meta.txid, records, pagesRead: bolt.pagesRead };
}
