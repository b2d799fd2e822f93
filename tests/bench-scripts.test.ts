/**
 * The benchmark scripts of package.json, run as a user runs them (`npm run ...`, the project's Node 22 first
 * on PATH), in their quick forms: `npm run bench -- --quick` (every part once, nothing written) and
 * `npm run bench:cli` with one run per case. Nothing here reads a number's size: the tests prove the
 * scripts run end to end and report every part, so a change cannot break them unnoticed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

const ROOT = path.resolve(__dirname, "..");

function npmRun(args: string[], env: NodeJS.ProcessEnv = {}) {
  const run = spawnSync("npm", ["run", "--silent", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

/** The data rows of the Markdown table under `heading` (up to the next blank line). */
function tableRows(markdown: string, heading: string): string[][] {
  const lines = markdown.split("\n");
  const at = lines.findIndex((line) => line.startsWith(heading));
  assert.ok(at >= 0, `no "${heading}" in the report`);
  const start = lines.findIndex((line, i) => i > at && line.startsWith("| "));
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i].startsWith("| "); i++) {
    rows.push(
      lines[i]
        .slice(2, -2)
        .split(" | ")
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

describe("npm run bench -- --quick", () => {
  it("runs every part of the benchmark once and writes nothing", () => {
    const results = ["results.md", "results.json"].map((f) => readFileSync(path.join(ROOT, "bench", f), "utf8"));
    const { code, out, err } = npmRun(["bench", "--", "--quick"]);
    assert.equal(code, 0, err);
    const simulation = tableRows(out, "## 1. Deployment simulation");
    assert.deepEqual(
      simulation.map((row) => row[0]),
      ["1+0", "3+2"],
    );
    for (const row of simulation) assert.ok(Number(row[1]) > 0, `resources of ${row[0]}: ${row[1]}`);
    assert.deepEqual(
      tableRows(out, "## 2. Program load time").map((row) => row[0]),
      ["1+0", "3+2"],
    );
    assert.deepEqual(
      tableRows(out, "Loaders").map((row) => row[0]),
      ["tsx"],
    );
    const infisical = tableRows(out, "## 3. Infisical traffic");
    assert.deepEqual(
      infisical.map((row) => row[1]),
      ["2 (1 POST /api/v1/auth/universal-auth/login, 1 GET /api/v3/secrets/raw)"],
    );
    assert.equal(tableRows(out, "## Targets").length, 5);
    assert.match(err, /quick run: nothing written/);
    assert.deepEqual(
      ["results.md", "results.json"].map((f) => readFileSync(path.join(ROOT, "bench", f), "utf8")),
      results,
      "a quick run leaves the full run's results as they are",
    );
  });

  it("refuses an argument it does not know, naming it", () => {
    const { code, err } = npmRun(["bench", "--", "--quik"]);
    assert.equal(code, 2);
    assert.match(err, /^bench: unknown argument --quik; the only one is --quick$/m);
  });
});

describe("npm run bench:cli", () => {
  it("times every case of the castle command once (RUNS=1)", () => {
    const { code, out, err } = npmRun(["bench:cli"], { RUNS: "1" });
    assert.equal(code, 0, err);
    const rows = out
      .split("\n")
      .filter((line) => line.startsWith("| ") && !line.startsWith("| command"))
      .map((line) => line.split("|").map((cell) => cell.trim()));
    assert.deepEqual(
      rows.map((row) => row[1]),
      [
        "node -e 0 (baseline)",
        "node + tsx loader (baseline)",
        "castle --help",
        "castle check blue",
        "castle check --all",
        "npx castle check blue",
      ],
    );
    for (const row of rows) assert.match(row[2], /^\d+$/, `${row[1]}: a whole number of ms`);
  });
});
