/**
 * Layers point one way: lib/ is pure logic, components/ build on lib/ and the SDKs, config/ reads the
 * stack, index.ts and cli/ sit on top. Offline helpers (mock runtime, offline provider, Infisical
 * stand-in) are used by render, bench and tests, never by the program itself.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

const root = path.resolve(__dirname, "..");

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir)).flatMap((entry) => {
    const relative = path.join(dir, entry);
    if (statSync(path.join(root, relative)).isDirectory()) return tsFiles(relative);
    return entry.endsWith(".ts") ? [relative] : [];
  });
}

/** The project folders a file imports from (relative imports only), e.g. `config`, `lib`, `.` for index.ts. */
function importedLayers(file: string): string[] {
  const text = readFileSync(path.join(root, file), "utf8");
  const specifiers = [...text.matchAll(/(?:from|import\()\s*["'](\.[^"']+)["']/g)].map((m) => m[1] as string);
  return specifiers.map((specifier) => {
    const target = path.relative(root, path.resolve(root, path.dirname(file), specifier));
    return target.includes(path.sep) ? (target.split(path.sep)[0] as string) : ".";
  });
}

function violations(dir: string, forbidden: string[]): string[] {
  return tsFiles(dir).flatMap((file) =>
    importedLayers(file)
      .filter((layer) => forbidden.includes(layer))
      .map((layer) => `${file} imports from ${layer === "." ? "the project root" : `${layer}/`}`),
  );
}

describe("layers", () => {
  it("lib/ imports nothing from config/, components/, cli/, offline/, tests/ or index.ts", () => {
    assert.deepEqual(violations("lib", ["config", "components", "cli", "offline", "tests", "bench", "."]), []);
  });

  it("components/ import from lib/ and the SDKs only", () => {
    assert.deepEqual(violations("components", ["config", "cli", "offline", "tests", "bench", "."]), []);
  });

  it("config/ does not reach up into components/, cli/ or the offline helpers", () => {
    assert.deepEqual(violations("config", ["components", "cli", "offline", "tests", "bench", "."]), []);
  });

  it("bench/ does not borrow from tests/", () => {
    assert.deepEqual(violations("bench", ["tests"]), []);
  });

  it("the check finds a forbidden import (it can fail)", () => {
    assert.deepEqual(importedLayers("tests/layers.test.ts"), []);
    assert.ok(importedLayers("cli/render.ts").includes("offline"));
  });
});
