/**
 * The words of the stack file messages a newcomer meets first, pinned verbatim: pasted secrets name only
 * the secrets the program reads (from castle:infisical.secretNames, the one place it reads them), a type
 * message describes what was written, "quote it" is said only when quoting makes the value valid, and a
 * misspelt key gets "did you mean". Each row is read both ways (as `castle check` reads the file and as
 * the program reads what Pulumi hands it), and both must say the same.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { readBothWays } from "./support/both-ways";

const ROOT = path.resolve(__dirname, "..");
const BLUE = readFileSync(path.join(ROOT, "Pulumi.blue.yaml"), "utf8");
const FOLDER = 'folder /castle/blue of environment "prod" (castle:infisical.secretPath)';

/** `BLUE` with `from` replaced by `to` (which must be there once). */
function edit(from: string, to: string): string {
  assert.equal(BLUE.split(from).length, 2, `${from} is in Pulumi.blue.yaml once`);
  return BLUE.replace(from, to);
}

const ROWS: { name: string; source: string; problem: string }[] = [
  {
    name: "a Proxmox token pasted: the two names the program reads it by",
    source: edit("    vlanId: 20\n", "    vlanId: 20\n    apiToken: SENTINEL-PVE-TOKEN\n"),
    problem: `castle:proxmox.apiToken: the name says it holds a secret; secrets are read from Infisical: put the API token in ${FOLDER} as PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET`,
  },
  {
    name: "a secretbox key pasted: TALOS_SECRETBOX_KEY, not a name made from the key",
    source: edit("    installDisk: /dev/sda\n", "    installDisk: /dev/sda\n    secretboxKey: SENTINEL-KEY\n"),
    problem: `castle:talos.secretboxKey: the name says it holds a secret; secrets are read from Infisical: put the secretbox key in ${FOLDER} as TALOS_SECRETBOX_KEY`,
  },
  {
    name: "the same with the secret renamed in castle:infisical.secretNames: the stack's own name",
    source: edit("    installDisk: /dev/sda\n", "    installDisk: /dev/sda\n    secretboxKey: SENTINEL-KEY\n").replace(
      "    timeoutSeconds: 30\n",
      "    timeoutSeconds: 30\n    secretNames: { secretboxKey: BLUE_ETCD_KEY }\n",
    ),
    problem: `castle:talos.secretboxKey: the name says it holds a secret; secrets are read from Infisical: put the secretbox key in ${FOLDER} as BLUE_ETCD_KEY`,
  },
  {
    name: "the cluster's identity pasted: the ESO names",
    source: edit("    storeName: infisical\n", "    storeName: infisical\n    clientSecret: SENTINEL-ESO\n"),
    problem: `castle:eso.clientSecret: the name says it holds a secret; secrets are read from Infisical: put the cluster's identity in ${FOLDER} as ESO_CLIENT_ID and ESO_CLIENT_SECRET`,
  },
  {
    name: "the program's own Infisical secret pasted: the environment variables",
    source: edit("    timeoutSeconds: 30\n", "    timeoutSeconds: 30\n    clientSecret: SENTINEL-DEPLOY\n"),
    problem:
      "castle:infisical.clientSecret: the name says it holds a secret; the program's own Infisical credentials come from the environment: INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET, or INFISICAL_TOKEN",
  },
  {
    name: "a secret the castle does not read: where an application's secret goes",
    source: edit(
      "  castle:clusterName: blue\n",
      "  castle:clusterName: blue\n  castle:grafanaPassword: SENTINEL-APP\n",
    ),
    problem: `castle:grafanaPassword: the name says it holds a secret; the castle reads no such secret (it reads TALOS_SECRETBOX_KEY, PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET, ESO_CLIENT_ID and ESO_CLIENT_SECRET from ${FOLDER}); an application's secret goes in the cluster's folder (castle:eso.secretsPath) and reaches it through an ExternalSecret (castle:eso.externalSecrets)`,
  },
  {
    name: "memoryMiB: 4G is text without quotes: said so, with what to write",
    source: edit(
      "vmId: 2011, proxmoxNode: pve1, cores: 2, memoryMiB: 4096",
      "vmId: 2011, proxmoxNode: pve1, cores: 2, memoryMiB: 4G",
    ),
    problem:
      'castle:controlPlanes[0].memoryMiB: "4G": is text; expected a number: write the memory in MiB, such as 4096',
  },
  {
    name: 'memoryMiB: "4096" is a number in quotes: drop the quotes',
    source: edit(
      "vmId: 2011, proxmoxNode: pve1, cores: 2, memoryMiB: 4096",
      'vmId: 2011, proxmoxNode: pve1, cores: 2, memoryMiB: "4096"',
    ),
    problem:
      'castle:controlPlanes[0].memoryMiB: "4096": is text (in quotes); expected a number, written without quotes',
  },
  {
    name: "interval: 60 quoted would still be wrong: no 'quote it', the duration it needs",
    source: edit("    interval: 1m\n", "    interval: 60\n"),
    problem:
      'castle:gitops.interval: 60: YAML read a whole number, not text, and "60" would not do either: must be a Go duration such as 1m, 5m or 1h30m',
  },
  {
    name: "fluxVersion: 2.9 quoted would still be wrong: the exact version it needs",
    source: edit("    fluxVersion: 2.9.4\n", "    fluxVersion: 2.9\n"),
    problem:
      'castle:gitops.fluxVersion: 2.9: YAML read a number, not text, and "2.9" would not do either: must be an exact Flux version such as 2.9.4 (no range, no leading v)',
  },
  {
    name: "environment: 012 is quoted as written, not as the 12 YAML made of it",
    source: edit("    environment: prod\n", "    environment: 012\n"),
    problem: 'castle:infisical.environment: 012: YAML read a whole number, not text; quote it as "012"',
  },
  {
    name: "vmId: 02011, a leading zero: both readings named, the Pulumi CLI's octal first",
    source: edit("vmId: 2011,", "vmId: 02011,"),
    problem:
      "castle:controlPlanes[0].vmId: 02011 has a leading zero; YAML readers read it differently: the Pulumi CLI as octal (1033, what pulumi up would use), this check as 2011. Write 2011",
  },
  {
    name: "vmId: 02019, a leading zero that is no octal number: refused alike",
    source: edit("vmId: 2012,", "vmId: 02019,"),
    problem:
      "castle:controlPlanes[1].vmId: 02019 has a leading zero; YAML 1.1 readers take such a number for octal. Write 2019",
  },
  {
    name: "a misspelt key: did you mean",
    source: edit("  castle:clusterName: blue\n", "  castle:clusterNmae: blue\n"),
    problem: "castle:clusterNmae: unknown key; did you mean clusterName?",
  },
  {
    name: "a misspelt key whose name sounds secret: still a misspelling, not a pasted secret",
    source: edit("    secretPath: /castle/blue\n", "    secretPath: /castle/blue\n    secretPth: /castle\n"),
    problem: "castle:infisical.secretPth: unknown key; did you mean secretPath?",
  },
  {
    name: "an unknown key close to nothing: no guess",
    source: edit("    interval: 1m\n", "    interval: 1m\n    branch: main\n"),
    problem: "castle:gitops.branch: unknown key (misspelt?); remove or rename it",
  },
];

describe("stack file messages, word for word, alike for castle check and the program", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "castle-messages-"));
    cpSync(path.join(ROOT, "Pulumi.green.yaml"), path.join(dir, "Pulumi.green.yaml"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const row of ROWS) {
    it(row.name, () => {
      const { byCheck, byProgram } = readBothWays(dir, "blue", row.source);
      assert.deepEqual(byProgram, byCheck, "the program words it as castle check does");
      assert.ok("problems" in byCheck, "refused");
      const lines = byCheck.problems.map((p) => `${p.key}: ${p.message}`);
      assert.ok(lines.includes(row.problem), lines.join("\n"));
      const key = row.problem.slice(0, row.problem.indexOf(": "));
      assert.equal(lines.filter((line) => line.startsWith(`${key}: `)).length, 1, `one message for ${key}`);
      assert.doesNotMatch(lines.join("\n"), /SENTINEL/, "a pasted value is never repeated");
      assert.doesNotMatch(lines.join("\n"), /PROXMOX_API_TOKEN|SECRETBOX_KEY\b(?<!TALOS_SECRETBOX_KEY)/);
    });
  }
});
