import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { check } from "../cli/check";

const projectDir = path.resolve(__dirname, "..");

function run(dir: string, stack: string) {
  const lines: string[] = [];
  const result = check(dir, stack, (line) => lines.push(line));
  return { code: result.code, text: lines.join("\n") };
}

describe("castle check", () => {
  for (const stack of ["blue", "green"]) {
    it(`passes ${stack} with a summary of nodes, IPs, VM IDs and the endpoint`, () => {
      const { code, text } = run(projectDir, stack);
      assert.equal(code, 0);
      assert.match(text, new RegExp(`^stack ${stack} \\(Pulumi\\.${stack}\\.yaml\\): ok`));
      assert.match(text, /endpoint https:\/\/10\.20\.0\.1?10:6443 \(VIP\)/);
      assert.equal(
        text.split("\n").filter((l) => / (control plane|worker) +10\.20\.0\.\d+ +2\d\d\d /.test(l)).length,
        5,
      );
      assert.ok(text.split("\n").length <= 24, "fits one screen");
    });
  }

  it("exits 1 and lists every problem of a broken stack", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "castle-check-"));
    copyFileSync(path.join(projectDir, "Pulumi.green.yaml"), path.join(dir, "Pulumi.green.yaml"));
    const broken = readFileSync(path.join(projectDir, "Pulumi.blue.yaml"), "utf8")
      .replace("vip: 10.20.0.10", "vip: 10.20.0.12")
      .replace("ip: 10.20.0.22", "ip: 10.20.0.121")
      .replace("hostname: blue-wk-1", "hostname: blue_wk_1");
    writeFileSync(path.join(dir, "Pulumi.blue.yaml"), broken);
    const { code, text } = run(dir, "blue");
    assert.equal(code, 1);
    assert.match(text, /^stack "blue" \(Pulumi\.blue\.yaml\) has 3 problems:/);
    assert.match(text, /castle:controlPlanes\[1\]\.ip: 10\.20\.0\.12 is also the VIP/);
    assert.match(text, /castle:workers\[1\]\.ip: 10\.20\.0\.121 is also used by stack "green"/);
    assert.match(text, /castle:workers\[0\]\.hostname: hostname must be a DNS label.*; it holds '_'$/m);
  });

  it("exits 1 naming the file when the stack does not exist", () => {
    const { code, text } = run(projectDir, "purple");
    assert.equal(code, 1);
    assert.match(text, /Pulumi\.purple\.yaml: no such file in .*; stacks here: blue, green/);
  });

  it("exits 1 when the stack file is not YAML", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "castle-check-"));
    writeFileSync(path.join(dir, "Pulumi.blue.yaml"), "config: [unclosed\n");
    const { code, text } = run(dir, "blue");
    assert.equal(code, 1);
    assert.match(text, /Pulumi\.blue\.yaml: not valid YAML: /);
  });
});
