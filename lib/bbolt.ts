/**
 * A read-only reader of bbolt database files (etcd's backend, and so an etcd snapshot), from a buffer.
 * No npm package reads bbolt, so this follows the on-disk format of etcd-io/bbolt v1.4.3 (the format is
 * version 2 since bolt's first release; etcd 3.6 uses bbolt 1.4):
 *
 * - every page starts with a 16-byte header (internal/common/page.go `Page`): id u64, flags u16
 *   (branch 0x01, leaf 0x02, meta 0x04, freelist 0x10), count u16, overflow u32; a page with `overflow`
 *   n spans n+1 pages of the database's page size;
 * - pages 0 and 1 are meta pages (internal/common/meta.go `Meta`, after the header): magic u32
 *   (0xED0CDAED), version u32 (2), pageSize u32, flags u32, root bucket (root pgid u64, sequence u64),
 *   freelist pgid u64, high-water pgid u64, txid u64, checksum u64 = FNV-1a 64 of the 56 bytes before
 *   it. The valid meta with the higher txid is the database's current state (db.go `DB.meta`);
 * - a branch page holds `count` 16-byte elements (pos u32, ksize u32, pgid u64), a leaf page `count`
 *   16-byte elements (flags u32, pos u32, ksize u32, vsize u32); `pos` counts from the element's own
 *   offset, and a leaf's value follows its key (page.go `branchPageElement`, `leafPageElement`);
 * - a leaf element with flag 0x01 is a bucket: its value is an `InBucket` (root pgid u64, sequence
 *   u64; internal/common/bucket.go); root 0 means an inline bucket, whose page follows those 16 bytes
 *   inside the value (bucket.go `openBucket`).
 *
 * Integers are in the writer's byte order; every platform etcd and Talos ship for (amd64, arm64) is
 * little-endian, and a big-endian file fails the magic check with a clear message.
 * Every offset is bounds-checked, so a truncated or damaged file is an error, never a wrong answer.
 */

const PAGE_HEADER = 16;
const ELEMENT = 16;
const BUCKET_HEADER = 16;
const META_SIZE = 64;
const MAGIC = 0xed0cdaed;
const VERSION = 2;
const BRANCH = 0x01;
const LEAF = 0x02;
const META = 0x04;
const BUCKET_LEAF_FLAG = 0x01;

export class BoltFormatError extends Error {
  constructor(message: string) {
    super(`not a readable bbolt database: ${message}`);
    this.name = "BoltFormatError";
  }
}

/** One meta page, decoded. */
export interface BoltMeta {
  pageSize: number;
  rootPage: bigint;
  /** High-water mark: pages at or above it are not part of the database. */
  pageCount: bigint;
  txid: bigint;
}

/** A key and its value in a bucket (a nested bucket is not an entry: see `buckets`). */
export interface BoltEntry {
  key: Buffer;
  value: Buffer;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const U64 = (1n << 64n) - 1n;

/** FNV-1a 64 (Go's hash/fnv New64a), as bbolt checksums its meta pages. */
export function fnv1a64(bytes: Uint8Array): bigint {
  let hash = FNV_OFFSET;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & U64;
  return hash;
}

function metaAt(db: Buffer, offset: number): BoltMeta | string {
  if (offset + PAGE_HEADER + META_SIZE > db.length) return "the file ends inside a meta page";
  const flags = db.readUInt16LE(offset + 8);
  if (flags !== META) return `page is not a meta page (flags 0x${flags.toString(16)})`;
  const m = offset + PAGE_HEADER;
  const magic = db.readUInt32LE(m);
  if (magic !== MAGIC) {
    return db.readUInt32BE(m) === MAGIC
      ? "big-endian file (written on a big-endian machine); only little-endian files are read"
      : `bad magic 0x${magic.toString(16)}`;
  }
  const version = db.readUInt32LE(m + 4);
  if (version !== VERSION) return `format version ${version}, not ${VERSION}`;
  const checksum = db.readBigUInt64LE(m + 56);
  if (fnv1a64(db.subarray(m, m + 56)) !== checksum) return "meta checksum mismatch";
  return {
    pageSize: db.readUInt32LE(m + 8),
    rootPage: db.readBigUInt64LE(m + 16),
    pageCount: db.readBigUInt64LE(m + 40),
    txid: db.readBigUInt64LE(m + 48),
  };
}

/**
 * The current meta: the valid one of pages 0 and 1 with the higher txid. The page size comes from meta
 * 0, or from meta 1 found at the common page sizes when meta 0 is damaged (as db.go `getPageSize`).
 */
export function readMeta(db: Buffer): BoltMeta {
  const first = metaAt(db, 0);
  const candidates: BoltMeta[] = [];
  if (typeof first !== "string") {
    candidates.push(first);
    const second = metaAt(db, first.pageSize);
    if (typeof second !== "string" && second.pageSize === first.pageSize) candidates.push(second);
  } else {
    for (const size of [4096, 8192, 16384, 65536]) {
      const second = metaAt(db, size);
      if (typeof second !== "string" && second.pageSize === size) {
        candidates.push(second);
        break;
      }
    }
  }
  if (candidates.length === 0) throw new BoltFormatError(typeof first === "string" ? first : "no valid meta page");
  const meta = candidates.reduce((a, b) => (b.txid > a.txid ? b : a));
  if (meta.pageSize < 512 || meta.pageSize > 1 << 20 || (meta.pageSize & (meta.pageSize - 1)) !== 0) {
    throw new BoltFormatError(`page size ${meta.pageSize} is not a power of two between 512 and 1 MiB`);
  }
  return meta;
}

/** A page's bytes (with its overflow pages) inside the file, or inside an inline bucket's value. */
interface PageView {
  bytes: Buffer;
  /** Where the page header starts in `bytes`. */
  at: number;
  /** Where the page ends in `bytes` (exclusive). */
  end: number;
  id: string;
}

/** A bbolt database in memory. */
export class BoltDb {
  readonly meta: BoltMeta;
  /** Pages read so far (branch, leaf and overflow pages alike), for the numbers. */
  pagesRead = 0;
  /** Pages met by kind: branch and leaf pages of the file, their overflow pages, inline bucket pages. */
  readonly pageKinds = { branch: 0, leaf: 0, overflow: 0, inline: 0 };

  constructor(private readonly db: Buffer) {
    this.meta = readMeta(db);
  }

  private page(pgid: bigint, from: string): PageView {
    if (pgid < 2n || pgid >= this.meta.pageCount) {
      throw new BoltFormatError(`${from} points at page ${pgid}, outside 2..${this.meta.pageCount - 1n}`);
    }
    const size = this.meta.pageSize;
    const at = Number(pgid) * size;
    if (at + PAGE_HEADER > this.db.length) throw new BoltFormatError(`page ${pgid} is past the end of the file`);
    const id = this.db.readBigUInt64LE(at);
    if (id !== pgid) throw new BoltFormatError(`page ${pgid} calls itself page ${id}`);
    const overflow = this.db.readUInt32LE(at + 12);
    const end = at + (overflow + 1) * size;
    if (end > this.db.length)
      throw new BoltFormatError(`page ${pgid} (+${overflow} overflow) runs past the end of the file`);
    this.pagesRead += overflow + 1;
    this.pageKinds.overflow += overflow;
    return { bytes: this.db, at, end, id: `page ${pgid}` };
  }

  /**
   * Walks the tree under `root` in key order, calling `visit` for every leaf element. Branch pages
   * are followed depth-first; a page seen twice in one walk is a loop, reported as damage.
   */
  private walk(root: PageView, visit: (flags: number, key: Buffer, value: Buffer) => void): void {
    const seen = new Set<string>();
    const stack: PageView[] = [root];
    while (stack.length > 0) {
      const view = stack.pop() as PageView;
      if (view.bytes === this.db) {
        if (seen.has(view.id)) throw new BoltFormatError(`${view.id} is reached twice (a loop)`);
        seen.add(view.id);
      }
      const { bytes, at, end } = view;
      const flags = bytes.readUInt16LE(at + 8);
      const count = bytes.readUInt16LE(at + 10);
      if (at + PAGE_HEADER + count * ELEMENT > end)
        throw new BoltFormatError(`${view.id}: ${count} elements do not fit`);
      if (view.bytes !== this.db) this.pageKinds.inline++;
      else if (flags === BRANCH) this.pageKinds.branch++;
      else if (flags === LEAF) this.pageKinds.leaf++;
      if (flags === BRANCH) {
        const children: PageView[] = [];
        for (let i = 0; i < count; i++) {
          const element = at + PAGE_HEADER + i * ELEMENT;
          children.push(this.page(bytes.readBigUInt64LE(element + 8), `${view.id} element ${i}`));
        }
        // Depth-first, in order: push the last child first.
        for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
      } else if (flags === LEAF) {
        for (let i = 0; i < count; i++) {
          const element = at + PAGE_HEADER + i * ELEMENT;
          const elementFlags = bytes.readUInt32LE(element);
          const keyAt = element + bytes.readUInt32LE(element + 4);
          const keySize = bytes.readUInt32LE(element + 8);
          const valueSize = bytes.readUInt32LE(element + 12);
          if (keyAt + keySize + valueSize > end) {
            throw new BoltFormatError(`${view.id} element ${i}: key and value run past the page`);
          }
          visit(
            elementFlags,
            bytes.subarray(keyAt, keyAt + keySize),
            bytes.subarray(keyAt + keySize, keyAt + keySize + valueSize),
          );
        }
      } else {
        throw new BoltFormatError(`${view.id} is neither a branch nor a leaf page (flags 0x${flags.toString(16)})`);
      }
    }
  }

  /** The root page of a bucket, from its `InBucket` value (inline when its root is 0). */
  private bucketRoot(value: Buffer, name: string): PageView {
    if (value.length < BUCKET_HEADER) throw new BoltFormatError(`bucket ${name}: its header is cut short`);
    const root = value.readBigUInt64LE(0);
    if (root !== 0n) return this.page(root, `bucket ${name}`);
    if (value.length < BUCKET_HEADER + PAGE_HEADER) throw new BoltFormatError(`inline bucket ${name} is cut short`);
    return { bytes: value, at: BUCKET_HEADER, end: value.length, id: `inline bucket ${name}` };
  }

  /** The bucket found by following `path` from the root (undefined when a name is missing). */
  private bucket(path: readonly string[]): PageView | undefined {
    let current = this.page(this.meta.rootPage, "the meta page's root");
    for (const name of path) {
      let found: PageView | undefined;
      this.walk(current, (flags, key, value) => {
        if (found === undefined && flags & BUCKET_LEAF_FLAG && key.toString("latin1") === name) {
          found = this.bucketRoot(value, name);
        }
      });
      if (found === undefined) return undefined;
      current = found;
    }
    return current;
  }

  /** The names of the buckets under `path` (the top-level buckets for `[]`). */
  buckets(path: readonly string[] = []): string[] {
    const root = this.bucket(path);
    const names: string[] = [];
    if (root) this.walk(root, (flags, key) => flags & BUCKET_LEAF_FLAG && names.push(key.toString("latin1")));
    return names;
  }

  /** Every key/value entry of the bucket at `path`, in key order; undefined when there is no such bucket. */
  entries(path: readonly string[]): BoltEntry[] | undefined {
    const root = this.bucket(path);
    if (root === undefined) return undefined;
    const entries: BoltEntry[] = [];
    this.walk(root, (flags, key, value) => {
      if (!(flags & BUCKET_LEAF_FLAG)) entries.push({ key, value });
    });
    return entries;
  }
}
