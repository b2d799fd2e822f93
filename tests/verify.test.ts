/**
 * `castle verify` through its real wiring: `main` -> the Automation API -> the stand-in `pulumi`; the
 * real Infisical fetch and doctor's identity proof against the Infisical stand-in; `talosctl` and
 * `kubectl` stand-ins on PATH (tests/support/bin), the first streaming a snapshot of a real etcd
 * (tests/fixtures/etcd); the Proxmox API over HTTPS from a stand-in. Nothing secret may be printed.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { parseDocument } from "yaml";
import { main } from "../cli/castle";
import { VERIFY_CHECKS } from "../cli/verify";
import { secretboxKeyFingerprint } from "../lib/secretbox";
import { InfisicalStandIn } from "../offline/infisical-stand-in";
import { CANARY, INFISICAL_KEY, OTHER_KEY } from "./fixtures/etcd/keys";
import { ProxmoxStandIn } from "./support/proxmox-stand-in";
import { blueIdentities, healthyBlueCluster, markedBlueVms, standInFolder } from "./support/running-castle";

const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(__dirname, "support", "bin");
const FIXTURES = path.join(__dirname, "fixtures", "etcd");
const ORIGINAL_PATH = process.env.PATH ?? "";

const PROJECT = "4f6c2a8e-7b1d-4c3e-9a5f-2d8b6e1c0a97";
const CLIENT_ID = "castle-verify-identity";
const CLIENT_SECRET = "SENTINEL-VERIFY-CLIENT-SECRET-6b0d";
const KEY = Buffer.from(INFISICAL_KEY).toString("base64");
const VALUES: Record<string, string> = {
  TALOS_SECRETBOX_KEY: KEY,
  PROXMOX_TOKEN_ID: "sentinel-verify@pve!verify",
  PROXMOX_TOKEN_SECRET: "SENTINEL-VERIFY-PVE-SECRET-c5e1",
  ESO_CLIENT_ID: "SENTINEL-VERIFY-ESO-ID-19af",
  ESO_CLIENT_SECRET: "SENTINEL-VERIFY-ESO-SECRET-77d2",
  GITOPS_CLIENT_ID: "SENTINEL-VERIFY-GITOPS-ID-4c81",
  GITOPS_CLIENT_SECRET: "SENTINEL-VERIFY-GITOPS-SECRET-a0e6",
};
const KUBECONFIG =
  "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-key-data: SENTINEL-VERIFY-KUBE-KEY\n";
const TALOSCONFIG = "context: blue\ncontexts:\n  blue:\n    key: SENTINEL-VERIFY-TALOS-KEY\n";
const SENTINELS = [
  ...Object.values(VALUES),
  CLIENT_SECRET,
  "SENTINEL-VERIFY-KUBE-KEY",
  "SENTINEL-VERIFY-TALOS-KEY",
  "SENTINEL-VERIFY-GIT-TOKEN",
  CANARY,
  KEY,
  Buffer.from(OTHER_KEY).toString("base64"),
];
const ENV = { INFISICAL_CLIENT_ID: CLIENT_ID, INFISICAL_CLIENT_SECRET: CLIENT_SECRET };
const fingerprint = secretboxKeyFingerprint(KEY);

let infisical: InfisicalStandIn;
let proxmox: ProxmoxStandIn;
let projectDir: string;
let pulumiDir: string;
let talosDir: string;
let kubeDir: string;
const dirs: string[] = [];

const deployed = (outputs: Record<string, unknown> = { kubeconfig: KUBECONFIG, talosconfig: TALOSCONFIG }) => ({
  stacks: { blue: { resourceCount: 29, outputs, secretOutputs: ["kubeconfig", "talosconfig"], history: [] } },
});
const writeState = (dir: string, state: unknown) => {
  writeFileSync(path.join(dir, "state.json"), JSON.stringify(state));
  writeFileSync(path.join(dir, "calls.log"), "");
};

before(async () => {
  infisical = new InfisicalStandIn({
    identities: blueIdentities(PROJECT, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, VALUES),
  });
  proxmox = new ProxmoxStandIn();
  await Promise.all([infisical.start(), proxmox.start()]);
  projectDir = mkdtempSync(path.join(tmpdir(), "castle-verify-project-"));
  for (const file of ["Pulumi.yaml", "Pulumi.green.yaml"]) cpSync(path.join(ROOT, file), path.join(projectDir, file));
  const blue = parseDocument(readFileSync(path.join(ROOT, "Pulumi.blue.yaml"), "utf8"));
  blue.setIn(["config", "castle:infisical", "siteUrl"], infisical.siteUrl);
  blue.setIn(["config", "castle:proxmox", "insecureSkipTlsVerify"], true);
  writeFileSync(path.join(projectDir, "Pulumi.blue.yaml"), blue.toString());
  pulumiDir = standInFolder("castle-verify-pulumi-", deployed());
  talosDir = standInFolder("castle-verify-talosctl-", {});
  kubeDir = standInFolder("castle-verify-kubectl-", {});
  dirs.push(projectDir, pulumiDir, talosDir, kubeDir);
  process.env.CASTLE_PULUMI_STAND_IN = pulumiDir;
  process.env.CASTLE_TALOSCTL_STAND_IN = talosDir;
  process.env.CASTLE_KUBECTL_STAND_IN = kubeDir;
  process.env.PATH = `${BIN}${path.delimiter}${ORIGINAL_PATH}`;
});

after(async () => {
  process.env.PATH = ORIGINAL_PATH;
  delete process.env.CASTLE_PULUMI_STAND_IN;
  delete process.env.CASTLE_TALOSCTL_STAND_IN;
  delete process.env.CASTLE_KUBECTL_STAND_IN;
  await Promise.all([infisical.close(), proxmox.close()]);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A healthy blue castle whose etcd is `snapshot`. */
function healthy(snapshot = "sealed.db"): void {
  infisical.projects = {
    [PROJECT]: {
      prod: {
        "/castle/blue": Object.entries(VALUES).map(([key, value]) => ({ key, value })),
        "/apps/blue": [{ key: "GRAFANA_ADMIN_PASSWORD", value: "SENTINEL-VERIFY-APP" }],
        "/gitops/blue": [
          { key: "FLUX_GIT_TOKEN", value: "SENTINEL-VERIFY-GIT-TOKEN" },
          { key: "GIT_CA_CERT", value: "SENTINEL-VERIFY-GIT-CA" },
        ],
      },
    },
  };
  proxmox.token = `${VALUES.PROXMOX_TOKEN_ID}=${VALUES.PROXMOX_TOKEN_SECRET}`;
  proxmox.vms = markedBlueVms(fingerprint);
  writeState(pulumiDir, deployed());
  writeState(talosDir, { snapshot: path.join(FIXTURES, snapshot) });
  writeState(kubeDir, healthyBlueCluster());
}

async function verify(argv: string[] = ["verify", "blue", "--json"], env: NodeJS.ProcessEnv = ENV) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, projectDir, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: { ...env, PROXMOX_VE_ENDPOINT: proxmox.endpoint },
  });
  const text = [...out, ...err].join("\n");
  for (const sentinel of SENTINELS)
    assert.ok(!text.includes(sentinel), `printed secret #${SENTINELS.indexOf(sentinel)}`);
  assert.doesNotMatch(text, /\n\s+at .+\(.+:\d+:\d+\)/, "no stack trace");
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const checksOf = (out: string) => {
  const report = JSON.parse(out) as { stack: string; checks: { check: string; ok: boolean; detail: string }[] };
  return { report, by: Object.fromEntries(report.checks.map((c) => [c.check, c])) };
};

describe("castle verify", () => {
  beforeEach(() => healthy());

  it("passes a castle whose every Secret in etcd is sealed with the key in Infisical, printing JSON for scripts", async () => {
    const { code, out, err } = await verify();
    const { report, by } = checksOf(out);
    assert.equal(code, 0, `${out}\n${err}`);
    assert.equal(report.stack, "blue");
    assert.deepEqual(
      report.checks.map((c) => c.check),
      Object.values(VERIFY_CHECKS),
    );
    for (const c of report.checks) assert.deepEqual(Object.keys(c), ["check", "ok", "detail"]);
    assert.ok(report.checks.every((c) => c.ok));
    assert.match(
      by[VERIFY_CHECKS.etcd].detail,
      new RegExp(
        `^all 5 revisions of 4 Secrets are secretbox:key2 and open with the key in Infisical \\(${fingerprint}\\) \\[8 etcd revisions from blue-cp-1\\]$`,
      ),
    );
    assert.match(
      by[VERIFY_CHECKS.marks].detail,
      new RegExp(`3 control planes tagged with key ${fingerprint} and contract v1.13`),
    );
    assert.match(by[VERIFY_CHECKS.flux].detail, /^Flux v2\.9\.4 Ready; refs\/heads\/main applied at main@sha1:3f1c/);
    assert.match(
      by[VERIFY_CHECKS.identities].detail,
      /the Git credential's identity reads its own folder only, and the cluster's identity cannot read it/,
    );
    assert.match(by[VERIFY_CHECKS.versions].detail, /^5 nodes run Talos \(v1\.13\.9\) and Kubernetes v1\.36\.3$/);
    assert.equal(err, "");
    // One snapshot of the first control plane, into a private folder that is gone afterwards.
    const calls = readFileSync(path.join(talosDir, "calls.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(calls.length, 1);
    const [flag, talosconfig, nodesFlag, node, ...command] = calls[0] as string[];
    assert.deepEqual(
      [flag, nodesFlag, node, command[0], command[1]],
      ["--talosconfig", "--nodes", "10.20.0.11", "etcd", "snapshot"],
    );
    const observed = JSON.parse(readFileSync(path.join(talosDir, "observed.json"), "utf8"));
    assert.deepEqual([observed.folderMode, observed.talosconfigMode], ["700", "600"]);
    assert.equal(path.dirname(observed.target), path.dirname(talosconfig));
    assert.equal(existsSync(path.dirname(observed.target)), false, "the folder is gone");
    const kubectl = readFileSync(path.join(kubeDir, "calls.log"), "utf8");
    assert.match(kubectl, /"get","secrets","--all-namespaces","-o","jsonpath=/, "Secrets are listed by name only");
    assert.doesNotMatch(kubectl, /"secrets"(,"--all-namespaces")?,"-o","json"/);
  });

  it("fails naming each Secret in plain text or under another key, older revisions included, and prints none of them", async () => {
    healthy("mixed.db");
    const { code, out } = await verify();
    const { by } = checksOf(out);
    assert.equal(code, 1);
    const etcd = by[VERIFY_CHECKS.etcd];
    assert.equal(etcd.ok, false);
    assert.match(etcd.detail, /^4 of 10 Secret revisions are not sealed with the key in Infisical/);
    assert.match(etcd.detail, /apps\/plain-text \(revision 10\): stored in plain text \(Kubernetes protobuf, k8s\\0\)/);
    assert.match(
      etcd.detail,
      /apps\/other-key \(revision 11\): sealed under key2 but does not open with the key from Infisical/,
    );
    assert.match(etcd.detail, /apps\/aescbc \(revision 12\): sealed by another provider \(k8s:enc:aescbc:v1:key1:\)/);
    assert.match(etcd.detail, /apps\/was-plain \(revision 13, an older one\): stored in plain text/);
    assert.ok(
      Object.values(by)
        .filter((c) => c.check !== VERIFY_CHECKS.etcd)
        .every((c) => c.ok),
    );
  });

  it("a table for the terminal, one row per check, and the failures counted", async () => {
    healthy("mixed.db");
    const { code, out } = await verify(["verify", "blue"]);
    assert.equal(code, 1);
    const lines = out.split("\n");
    assert.match(lines[0], /^check +verdict +time +detail$/);
    assert.match(
      lines.find((l) => l.startsWith(VERIFY_CHECKS.etcd)) ?? "",
      /^etcd-secrets-sealed-with-infisical-key +FAIL +\d+\.\d s +4 of 10/,
    );
    assert.match(lines.find((l) => l.startsWith(VERIFY_CHECKS.versions)) ?? "", / pass +\d+\.\d s +5 nodes/);
    assert.equal(lines.at(-1), "1 of 6 checks failed");
  });

  it("fails the marks when a control plane carries another key's fingerprint", async () => {
    proxmox.vms = markedBlueVms(fingerprint).map((vm) =>
      vm.vmId === 2012 ? markedBlueVms(secretboxKeyFingerprint(Buffer.from(OTHER_KEY).toString("base64")))[1] : vm,
    );
    const { code, out } = await verify();
    const marks = checksOf(out).by[VERIFY_CHECKS.marks];
    assert.equal(code, 1);
    assert.match(
      marks.detail,
      new RegExp(
        `^blue-cp-2 \\(VM 2012 on pve2\\): key fingerprint sha256:[0-9a-f]{16}, Infisical's key is ${fingerprint}$`,
      ),
    );
  });

  it("finds a control plane that moved to another Proxmox node, and judges it by its tags there", async () => {
    proxmox.vms = markedBlueVms(fingerprint).map((vm) => (vm.vmId === 2012 ? { ...vm, node: "pve3" } : vm));
    const { code, out } = await verify();
    const marks = checksOf(out).by[VERIFY_CHECKS.marks];
    assert.equal(code, 0, marks.detail);
    assert.equal(marks.ok, true);
    assert.ok(proxmox.requests.includes("GET /api2/json/nodes"), "one list of the whole cluster");
    assert.ok(!proxmox.requests.some((r) => r.endsWith("/status/current")), "no read by (node, VM ID)");
  });

  it("cannot tell the marks when a control plane is not found while a Proxmox node is offline", async () => {
    proxmox.vms = markedBlueVms(fingerprint).filter((vm) => vm.vmId !== 2013);
    proxmox.nodes = { pve3: "offline" };
    try {
      const { code, out } = await verify();
      assert.equal(code, 1);
      assert.equal(
        checksOf(out).by[VERIFY_CHECKS.marks].detail,
        "cannot tell: VM 2013 not found while Proxmox node pve3 is not online",
      );
    } finally {
      proxmox.nodes = {};
    }
  });

  it("an unreachable castle fails every check that needs it, each with its reason", async () => {
    writeState(talosDir, { snapshot: path.join(FIXTURES, "sealed.db"), unreachable: true });
    writeState(kubeDir, { unreachable: true });
    proxmox.token = "someone-else@pve!other=nope";
    const { code, out } = await verify();
    const { by } = checksOf(out);
    assert.equal(code, 1);
    assert.match(
      by[VERIFY_CHECKS.etcd].detail,
      /^cannot take an etcd snapshot from blue-cp-1 \(10\.20\.0\.11\): talosctl failed: error reading file: rpc error: code = Unavailable .*dial tcp 10\.20\.0\.11:50000: connect: no route to host/,
    );
    assert.match(
      by[VERIFY_CHECKS.marks].detail,
      /^cannot list the VMs of the Proxmox cluster at https:\/\/127\.0\.0\.1:\d+\/: received an HTTP 401 response - Reason: authentication failure$/,
    );
    for (const check of [VERIFY_CHECKS.eso, VERIFY_CHECKS.flux, VERIFY_CHECKS.versions]) {
      assert.match(
        by[check].detail,
        /kubectl failed: The connection to the server 10\.20\.0\.10:6443 was refused - did you specify the right host or port\?$/,
      );
    }
    assert.equal(by[VERIFY_CHECKS.identities].ok, true, "Infisical itself was reachable");
  });

  it("a castle whose FluxInstance is gone fails the Flux check with kubectl's answer", async () => {
    const cluster = healthyBlueCluster();
    const objects: Record<string, unknown> = { ...cluster.objects };
    delete objects["fluxinstances.fluxcd.controlplane.io/flux"];
    writeState(kubeDir, { ...cluster, objects });
    const { code, out } = await verify();
    assert.equal(code, 1);
    assert.equal(
      checksOf(out).by[VERIFY_CHECKS.flux].detail,
      `cannot read Flux's objects: kubectl failed: Error from server (NotFound): fluxinstances.fluxcd.controlplane.io "flux" not found`,
    );
  });

  it("without talosctl on PATH, the etcd check fails saying so", async () => {
    const bin = mkdtempSync(path.join(tmpdir(), "castle-verify-bin-"));
    dirs.push(bin);
    for (const tool of ["pulumi", "kubectl"]) symlinkSync(path.join(BIN, tool), path.join(bin, tool));
    process.env.PATH = `${bin}${path.delimiter}${ORIGINAL_PATH}`;
    try {
      const { code, out } = await verify();
      assert.equal(code, 1);
      assert.equal(
        checksOf(out).by[VERIFY_CHECKS.etcd].detail,
        "cannot take an etcd snapshot from blue-cp-1 (10.20.0.11): talosctl is not installed or not on PATH",
      );
    } finally {
      process.env.PATH = `${BIN}${path.delimiter}${ORIGINAL_PATH}`;
    }
  });

  it("a stack that is not deployed fails the checks that need the cluster, saying so", async () => {
    writeState(pulumiDir, deployed({}));
    const { code, out } = await verify();
    const { by } = checksOf(out);
    assert.equal(code, 1);
    for (const check of [VERIFY_CHECKS.etcd, VERIFY_CHECKS.eso, VERIFY_CHECKS.versions]) {
      assert.match(by[check].detail, /^not run: stack "blue" has no kubeconfig output: it is not deployed/, check);
    }
    assert.equal(readFileSync(path.join(talosDir, "calls.log"), "utf8"), "", "talosctl was not asked");
    writeState(pulumiDir, { stacks: {} });
    const unknown = checksOf((await verify()).out).by;
    assert.match(
      unknown[VERIFY_CHECKS.versions].detail,
      /^not run: cannot read the stack's outputs: the backend has no stack "blue" \(pulumi stack init blue creates it\)$/,
    );
  });

  it("a damaged snapshot fails the etcd check with the reason, not a stack trace", async () => {
    const damaged = path.join(talosDir, "damaged.db");
    const bytes = readFileSync(path.join(FIXTURES, "sealed.db"));
    bytes[9000] ^= 0xff;
    writeFileSync(damaged, bytes);
    writeState(talosDir, { snapshot: damaged });
    const { code, out } = await verify();
    assert.equal(code, 1);
    assert.equal(
      checksOf(out).by[VERIFY_CHECKS.etcd].detail,
      "the etcd snapshot of blue-cp-1 cannot be read: the snapshot's SHA-256 trailer does not match its contents: the file is damaged",
    );
  });

  it("without Infisical credentials, the checks that need the key fail, naming what is missing", async () => {
    const { code, out } = await verify(["verify", "blue", "--json"], {});
    const { by } = checksOf(out);
    assert.equal(code, 1);
    assert.match(
      by[VERIFY_CHECKS.etcd].detail,
      /^not run: the castle's secrets could not be read from Infisical: .*INFISICAL_CLIENT_ID/,
    );
    assert.match(by[VERIFY_CHECKS.marks].detail, /^not run: the castle's secrets could not be read from Infisical/);
    assert.equal(by[VERIFY_CHECKS.identities].ok, false);
    assert.equal(by[VERIFY_CHECKS.versions].ok, true, "kubectl needs no Infisical secret");
  });

  it("a stack file that does not pass check reads nothing from the castle", async () => {
    const broken = mkdtempSync(path.join(tmpdir(), "castle-verify-broken-"));
    dirs.push(broken);
    mkdirSync(path.join(broken, "sub"));
    cpSync(path.join(ROOT, "Pulumi.yaml"), path.join(broken, "Pulumi.yaml"));
    writeFileSync(
      path.join(broken, "Pulumi.blue.yaml"),
      readFileSync(path.join(projectDir, "Pulumi.blue.yaml"), "utf8").replace(
        "cidr: 10.20.0.0/24",
        "cidr: 10.20.0.5/24",
      ),
    );
    const err: string[] = [];
    const code = await main(["verify", "blue"], path.join(broken, "sub"), {
      out: () => {},
      err: (l) => err.push(l),
      env: ENV,
    });
    assert.equal(code, 1);
    assert.match(err.join("\n"), /castle:network\.cidr: 10\.20\.0\.5\/24 has host bits set/);
    assert.match(err.join("\n"), /does not pass castle check; nothing was read from the castle$/);
    assert.equal(readFileSync(path.join(pulumiDir, "calls.log"), "utf8"), "");
  });
});
