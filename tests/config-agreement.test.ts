/**
 * `castle check` and the program read the same values from a stack file: check reads the YAML file,
 * the program reads what the Pulumi CLI hands it (every top-level value as text, maps and lists as
 * JSON). Each case writes a stack file, then reads it both ways: both accept it with the same
 * configuration, or both refuse it with the same problems.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { readBothWays } from "./support/both-ways";

const ROOT = path.resolve(__dirname, "..");
const BLUE = readFileSync(path.join(ROOT, "Pulumi.blue.yaml"), "utf8");

describe("castle check and the program read a stack file alike", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "castle-agreement-"));
    cpSync(path.join(ROOT, "Pulumi.green.yaml"), path.join(dir, "Pulumi.green.yaml"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const both = (source: string) => readBothWays(dir, "blue", source);

  const cases: { name: string; source: string; accepted: boolean }[] = [
    { name: "the blue stack as it is", source: BLUE, accepted: true },
    {
      name: "a cluster name of digits, quoted: text for both (not a number in the program)",
      source: BLUE.replace(/castle:clusterName: .*/, 'castle:clusterName: "2026"'),
      accepted: true,
    },
    {
      name: "the same cluster name unquoted: the same text to Pulumi, so the same answer",
      source: BLUE.replace(/castle:clusterName: .*/, "castle:clusterName: 2026"),
      accepted: true,
    },
    {
      name: "a Kubernetes version YAML reads as a number: refused alike",
      source: BLUE.replace(/castle:kubernetesVersion: .*/, "castle:kubernetesVersion: 1.36"),
      accepted: false,
    },
    {
      name: "an unprefixed key: the project namespace for both",
      source: BLUE.replace(/ {2}castle:kubernetesVersion:/, "  kubernetesVersion:"),
      accepted: true,
    },
    {
      name: "a number inside a map stays a number for both (a VM ID written as text is refused alike)",
      source: BLUE.replace(/vmId: (\d+)/, 'vmId: "$1"'),
      accepted: false,
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const { byCheck, byProgram } = both(c.source);
      assert.deepEqual(byProgram, byCheck);
      assert.equal("config" in byCheck, c.accepted, JSON.stringify(byCheck));
    });
  }
});
