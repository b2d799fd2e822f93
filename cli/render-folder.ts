/**
 * The folder `castle render --out` writes: new, empty, or written by castle render before (it holds the
 * marker `.castle-render.json`, which lists the files that rendering wrote). The folder may come from a
 * pull request (a committed `rendered/blue/` with a marker and symlinks), so nothing here follows a link:
 *
 * - the root is taken by its real path, and every folder on the way to a file must be a real folder
 *   inside it (no symlink at any step);
 * - of a previous rendering, only regular files the marker lists are removed, and only when they lie inside
 *   the root (an entry `../x`, `/etc/x`, or one through a symlinked folder is skipped);
 * - files are written with O_NOFOLLOW, after refusing any step or target that is a link: a planted link
 *   stops the rendering with an error, nothing outside the root is touched.
 */
import {
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import path from "node:path";

/** The file that marks a folder as castle render's output; it lists the files the last rendering wrote. */
export const RENDER_MARKER = ".castle-render.json";

/** Refused: the folder holds a link or an entry castle render will not touch. */
export class RenderFolderError extends Error {
  override name = "RenderFolderError";
}

/** Why `outDir` may not receive a rendering, or undefined when it may (new, empty, or rendered before). */
export function outDirRefusal(outDir: string): string | undefined {
  if (!existsSync(outDir)) return undefined;
  if (lstatSync(outDir).isSymbolicLink()) {
    return `${outDir} is a symbolic link; castle render writes only into a real folder: give the folder itself`;
  }
  if (!lstatSync(outDir).isDirectory()) return `${outDir} exists and is not a folder; give a new or empty folder`;
  const entries = readdirSync(outDir);
  if (entries.length === 0) return undefined;
  if (!entries.includes(RENDER_MARKER)) {
    return (
      `${outDir} is not empty and castle render did not write it (no ${RENDER_MARKER} in it); nothing was written or removed. ` +
      "Give a new or empty folder, or one castle render wrote before"
    );
  }
  if (!lstatSync(path.join(outDir, RENDER_MARKER)).isFile()) {
    return `${path.join(outDir, RENDER_MARKER)} is not a regular file (a link?); castle render did not write it. Nothing was written or removed`;
  }
  return undefined;
}

/**
 * The real path of `relative` below the real `root`, when every step is a real folder (or absent) and the
 * path stays inside; undefined otherwise. `relative` must be relative, without '..' or empty steps.
 */
function inside(root: string, relative: string): { file: string; folders: string[] } | undefined {
  if (path.isAbsolute(relative) || relative.includes("\\") || relative.includes("\0")) return undefined;
  const steps = relative.split("/");
  if (steps.some((step) => step === "" || step === "." || step === "..")) return undefined;
  const folders: string[] = [];
  let current = root;
  for (const step of steps.slice(0, -1)) {
    current = path.join(current, step);
    folders.push(current);
  }
  const file = path.join(root, ...steps);
  if (!file.startsWith(`${root}${path.sep}`)) return undefined;
  return { file, folders };
}

/** The kind of what is at `file`, without following a link: "absent", "file", "folder", "link" or "other". */
function kindAt(file: string): "absent" | "file" | "folder" | "link" | "other" {
  try {
    const stat = lstatSync(file);
    if (stat.isSymbolicLink()) return "link";
    if (stat.isFile()) return "file";
    if (stat.isDirectory()) return "folder";
    return "other";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "absent";
    throw error;
  }
}

/** The files the previous rendering into `root` wrote, from its marker (a regular file, never a link). */
function previousFiles(root: string): string[] {
  const marker = path.join(root, RENDER_MARKER);
  if (kindAt(marker) !== "file") return [];
  try {
    const files = (JSON.parse(readFileSync(marker, "utf8")) as { files?: unknown }).files;
    return Array.isArray(files) ? files.filter((f): f is string => typeof f === "string") : [];
  } catch {
    return [];
  }
}

/** What `replaceRendering` did besides writing: marker entries it left alone, and why. */
export interface FolderReport {
  written: string[];
  /** Marker entries left alone: their index in the marker's list (never the text), and why. */
  skipped: { entry: number; reason: string }[];
}

/**
 * Removes what the previous rendering into `outDir` wrote: only the regular files its marker lists that
 * lie inside the folder (a file added by hand stays), and the folders it leaves empty. `outDir` must pass
 * `outDirRefusal`. Returns the marker entries left alone.
 */
export function removePreviousRendering(outDir: string): FolderReport["skipped"] {
  const refusal = outDirRefusal(outDir);
  if (refusal) throw new RenderFolderError(refusal);
  if (!existsSync(outDir)) return [];
  const root = realpathSync(outDir);
  const skipped: FolderReport["skipped"] = [];
  for (const [entry, listed] of previousFiles(root).entries()) {
    const place = inside(root, listed);
    if (place === undefined) {
      skipped.push({ entry, reason: "points outside the folder" });
      continue;
    }
    const through = place.folders.find((folder) => kindAt(folder) !== "folder");
    if (through !== undefined) {
      if (kindAt(through) !== "absent") skipped.push({ entry, reason: "lies behind a link or a file" });
      continue;
    }
    const kind = kindAt(place.file);
    if (kind === "absent") continue;
    if (kind !== "file") {
      skipped.push({ entry, reason: `is a ${kind === "link" ? "link" : "folder or special file"}, not a file` });
      continue;
    }
    unlinkSync(place.file);
    for (const folder of [...place.folders].reverse()) {
      if (readdirSync(folder).length > 0) break;
      rmdirSync(folder);
    }
  }
  return skipped;
}

/**
 * Writes `files` (relative path -> text) under `outDir`, then the marker listing them. Throws
 * RenderFolderError when a link (or a file where a folder goes) stands in the way; follows none.
 */
export function writeRenderingFiles(outDir: string, files: Record<string, string>, marker: object): string[] {
  const refusal = outDirRefusal(outDir);
  if (refusal) throw new RenderFolderError(refusal);
  mkdirSync(outDir, { recursive: true });
  const root = realpathSync(outDir);
  const written: string[] = [];
  const write = (relative: string, text: string) => {
    const place = inside(root, relative);
    if (place === undefined) throw new RenderFolderError(`${relative} is not a path inside ${outDir}`);
    for (const folder of place.folders) {
      const kind = kindAt(folder);
      if (kind === "absent") mkdirSync(folder);
      else if (kind !== "folder") {
        throw new RenderFolderError(
          `${path.relative(root, folder)} in ${outDir} is a ${kind === "link" ? "symbolic link" : "file"}, where castle render writes a folder; it follows no link. Remove it and render again`,
        );
      }
    }
    const kind = kindAt(place.file);
    if (kind !== "absent" && kind !== "file") {
      throw new RenderFolderError(
        `${relative} in ${outDir} is a ${kind === "link" ? "symbolic link" : "folder or special file"}, where castle render writes a file; it follows no link. Remove it and render again`,
      );
    }
    // O_NOFOLLOW: a link planted between the check and the write fails the open instead of being followed.
    const fd = openSync(
      place.file,
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
      0o644,
    );
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
  };
  for (const [relative, text] of Object.entries(files)) {
    write(relative, text);
    written.push(relative);
  }
  write(RENDER_MARKER, `${JSON.stringify({ ...marker, files: written }, null, 2)}\n`);
  return written;
}

/** `removePreviousRendering`, then `writeRenderingFiles`. */
export function replaceRendering(outDir: string, files: Record<string, string>, marker: object): FolderReport {
  const skipped = removePreviousRendering(outDir);
  return { skipped, written: writeRenderingFiles(outDir, files, marker) };
}
