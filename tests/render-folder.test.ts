/**
 * The folder `castle render --out` writes may come from a pull request: a committed marker and planted
 * symlinks must never make it delete or write a file outside that folder. Each case builds a folder and
 * a victim file beside it, calls `replaceRendering` (the whole of render's file handling) and checks the
 * victim. One case runs `castle render` itself on the README's command.
 */
import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { main } from "../cli/castle";
import { RENDER_MARKER, RenderFolderError, replaceRendering } from "../cli/render-folder";

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A work area: `out` (the render folder, with a marker listing `entries`) and `victim` beside it. */
function area(entries: string[]) {
  const base = mkdtempSync(path.join(tmpdir(), "castle-render-folder-"));
  dirs.push(base);
  const out = path.join(base, "out");
  const outside = path.join(base, "outside");
  mkdirSync(out);
  mkdirSync(outside);
  const victim = path.join(outside, "victim.txt");
  writeFileSync(victim, "not the castle's\n");
  writeFileSync(path.join(out, RENDER_MARKER), JSON.stringify({ writtenBy: "castle render", files: entries }));
  return { base, out, outside, victim };
}

const FILES = { "resources.json": "{}\n", "talos/cp-1.yaml": "machine: {}\n", "kubernetes/a.yaml": "kind: A\n" };
const MARKER = { writtenBy: "castle render", stack: "blue" };

describe("castle render's folder: marker entries outside the folder are left alone", () => {
  it("an entry ../x is skipped, the file it names stays", () => {
    const { out, victim } = area(["../outside/victim.txt"]);
    const report = replaceRendering(out, FILES, MARKER);
    assert.equal(readFileSync(victim, "utf8"), "not the castle's\n");
    assert.deepEqual(report.skipped, [{ entry: 0, reason: "points outside the folder" }]);
  });

  it("an absolute entry is skipped, the file it names stays", () => {
    const { out, victim } = area([]);
    writeFileSync(path.join(out, RENDER_MARKER), JSON.stringify({ files: [victim] }));
    const report = replaceRendering(out, FILES, MARKER);
    assert.equal(readFileSync(victim, "utf8"), "not the castle's\n");
    assert.deepEqual(report.skipped, [{ entry: 0, reason: "points outside the folder" }]);
  });

  it("an entry through a symlinked folder is skipped, the file behind it stays", () => {
    const { out, outside, victim } = area(["evil/victim.txt"]);
    symlinkSync(outside, path.join(out, "evil"));
    const report = replaceRendering(out, FILES, MARKER);
    assert.equal(readFileSync(victim, "utf8"), "not the castle's\n");
    assert.deepEqual(report.skipped, [{ entry: 0, reason: "lies behind a link or a file" }]);
  });

  it("an entry that is itself a link is not followed: the link is no file of the castle's", () => {
    const { out, victim } = area(["old.yaml"]);
    symlinkSync(victim, path.join(out, "old.yaml"));
    const report = replaceRendering(out, FILES, MARKER);
    assert.equal(readFileSync(victim, "utf8"), "not the castle's\n");
    assert.ok(lstatSync(path.join(out, "old.yaml")).isSymbolicLink());
    assert.deepEqual(report.skipped, [{ entry: 0, reason: "is a link, not a file" }]);
  });

  it("its own files are removed, a file added by hand stays", () => {
    const { out } = area(["talos/old.yaml"]);
    mkdirSync(path.join(out, "talos"));
    writeFileSync(path.join(out, "talos", "old.yaml"), "old\n");
    writeFileSync(path.join(out, "NOTES.md"), "mine\n");
    const report = replaceRendering(out, FILES, MARKER);
    assert.equal(existsSync(path.join(out, "talos", "old.yaml")), false);
    assert.equal(readFileSync(path.join(out, "NOTES.md"), "utf8"), "mine\n");
    assert.deepEqual(report.skipped, []);
    assert.deepEqual(report.written, Object.keys(FILES));
  });
});

describe("castle render's folder: writes never follow a link", () => {
  it("a symlinked folder where a folder is written stops the rendering; nothing is written behind it", () => {
    const { out, outside } = area([]);
    symlinkSync(outside, path.join(out, "talos"));
    assert.throws(
      () => replaceRendering(out, FILES, MARKER),
      (e: unknown) =>
        e instanceof RenderFolderError &&
        /talos in .* is a symbolic link, where castle render writes a folder/.test(e.message),
    );
    assert.equal(existsSync(path.join(outside, "cp-1.yaml")), false);
  });

  it("a link where a file is written stops the rendering; the file it points at stays", () => {
    const { out, victim } = area([]);
    symlinkSync(victim, path.join(out, "resources.json"));
    assert.throws(
      () => replaceRendering(out, FILES, MARKER),
      (e: unknown) => e instanceof RenderFolderError && /resources\.json in .* is a symbolic link/.test(e.message),
    );
    assert.equal(readFileSync(victim, "utf8"), "not the castle's\n");
  });

  it("a marker that is a link is refused before anything is written", () => {
    const { out, victim } = area([]);
    rmSync(path.join(out, RENDER_MARKER));
    symlinkSync(victim, path.join(out, RENDER_MARKER));
    assert.throws(() => replaceRendering(out, FILES, MARKER), /is not a regular file \(a link\?\)/);
    assert.equal(readFileSync(victim, "utf8"), "not the castle's\n");
    assert.equal(existsSync(path.join(out, "resources.json")), false);
  });

  it("an output folder that is a link is refused", () => {
    const { base, outside } = area([]);
    const link = path.join(base, "link-out");
    symlinkSync(outside, link);
    assert.throws(
      () => replaceRendering(link, FILES, MARKER),
      /is a symbolic link; castle render writes only into a real folder/,
    );
    assert.deepEqual(
      Object.keys(FILES).filter((f) => existsSync(path.join(outside, f))),
      [],
    );
  });
});

describe("castle render --out on a folder a pull request planted", () => {
  it("a committed marker listing ../x and an absolute path, and a symlinked talos folder: exit 1, nothing outside touched", async () => {
    const ROOT = path.resolve(__dirname, "..");
    const project = mkdtempSync(path.join(tmpdir(), "castle-render-planted-"));
    dirs.push(project);
    for (const file of ["Pulumi.blue.yaml", "Pulumi.green.yaml"]) {
      writeFileSync(path.join(project, file), readFileSync(path.join(ROOT, file)));
    }
    const outside = path.join(project, "outside");
    mkdirSync(outside);
    const victim = path.join(outside, "victim.txt");
    writeFileSync(victim, "not the castle's\n");
    const out = path.join(project, "rendered", "blue");
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, RENDER_MARKER), JSON.stringify({ files: ["../../outside/victim.txt", victim] }));
    symlinkSync(outside, path.join(out, "talos"));
    const err: string[] = [];
    const code = await main(["render", "blue", "--out", "rendered/blue"], project, {
      out: () => {},
      err: (line) => err.push(line),
    });
    assert.equal(code, 1);
    const text = err.join("\n");
    assert.match(text, /left alone an entry of \.castle-render\.json \(number 1\) that points outside the folder/);
    assert.match(text, /left alone an entry of \.castle-render\.json \(number 2\) that points outside the folder/);
    assert.match(text, /talos in \S+rendered\/blue is a symbolic link, where castle render writes a folder/);
    assert.ok(!text.includes(victim), "the marker's entries are not repeated");
    assert.equal(readFileSync(victim, "utf8"), "not the castle's\n");
    assert.deepEqual(
      ["blue-cp-1.yaml", "blue-wk-1.yaml"].filter((f) => existsSync(path.join(outside, f))),
      [],
    );
  });
});
