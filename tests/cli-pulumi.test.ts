/**
 * The commands that need a deployment (status, kubeconfig, talosconfig, recreate), run through their
 * real wiring: `main` -> Pulumi's Automation API (LocalWorkspace) -> a `pulumi` executable, here the
 * stand-in tests/support/bin/pulumi put first on PATH. It logs every call, so the tests see what was
 * asked of the CLI and in which order.
 */
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { parseDocument } from "yaml";
import { main } from "../cli/castle";
import { InfisicalStandIn } from "../offline/infisical-stand-in";
import { ProxmoxStandIn } from "./support/proxmox-stand-in";

const ROOT = path.resolve(__dirname, "..");
const STAND_IN_BIN = path.join(__dirname, "support", "bin");
const ORIGINAL_PATH = process.env.PATH ?? "";

const KUBECONFIG =
  "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-key-data: SENTINEL-KUBE-KEY-31f9\n";
const TALOSCONFIG = "context: blue\ncontexts:\n  blue:\n    key: SENTINEL-TALOS-KEY-a7c3\n";
const SENTINELS = ["SENTINEL-KUBE-KEY-31f9", "SENTINEL-TALOS-KEY-a7c3"];

/** Outputs of a deployed blue stack, as index.ts exports them. */
const BLUE_OUTPUTS = {
  endpoint: "https://10.20.0.10:6443",
  clusterHealthy: true,
  secretboxKeyFingerprint: "sha256:0f3a9c1d",
  talosContract: "v1.13",
  storeName: "infisical",
  kubeconfig: KUBECONFIG,
  talosconfig: TALOSCONFIG,
};
const SECRET_OUTPUTS = ["kubeconfig", "talosconfig"];
const DEPLOYED_CONFIG = {
  "castle:talos": { value: JSON.stringify({ version: "v1.13.9", contract: "v1.13" }), secret: false },
  "castle:kubernetesVersion": { value: "1.36.3", secret: false },
};

interface StandInState {
  stacks: Record<string, unknown>;
  backendError?: string;
  /** `stack output` fails for these stacks alone, with this message. */
  outputError?: Record<string, string>;
  fail?: { destroy?: string; up?: string };
  upOutputs?: { outputs: Record<string, unknown>; secret: string[] };
}

const deployedBlue = () => ({
  resourceCount: 29,
  outputs: BLUE_OUTPUTS,
  secretOutputs: SECRET_OUTPUTS,
  config: DEPLOYED_CONFIG,
  history: [
    {
      version: 1,
      kind: "update",
      result: "succeeded",
      startTime: "2026-11-30T09:00:00.000Z",
      endTime: "2026-11-30T09:06:12.000Z",
      message: "",
      environment: {},
      config: DEPLOYED_CONFIG,
    },
  ],
});

let standIn: string;
let projectDir: string;
const dirs: string[] = [];

function setState(state: StandInState): void {
  writeFileSync(path.join(standIn, "state.json"), JSON.stringify(state));
  writeFileSync(path.join(standIn, "calls.log"), "");
  writeFileSync(path.join(standIn, "env.log"), "");
}
/** PULUMI_K8S_DELETE_UNREACHABLE as each destroy and up ran with it. */
const envLog = (): { command: string; PULUMI_K8S_DELETE_UNREACHABLE: string | null }[] =>
  readFileSync(path.join(standIn, "env.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
const state = (): StandInState => JSON.parse(readFileSync(path.join(standIn, "state.json"), "utf8"));
/** The pulumi commands run so far (first two words, e.g. "stack output", "destroy"). */
const calls = (): string[][] =>
  readFileSync(path.join(standIn, "calls.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));

async function castle(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = projectDir) {
  const out: string[] = [];
  const err: string[] = [];
  let written = "";
  const code = await main(argv, cwd, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    write: (t) => {
      written += t;
    },
    env,
  });
  return { code, out: out.join("\n"), err: err.join("\n"), written };
}

before(() => {
  standIn = mkdtempSync(path.join(tmpdir(), "castle-pulumi-stand-in-"));
  projectDir = mkdtempSync(path.join(tmpdir(), "castle-pulumi-project-"));
  dirs.push(standIn, projectDir);
  for (const file of ["Pulumi.yaml", "Pulumi.blue.yaml", "Pulumi.green.yaml"]) {
    cpSync(path.join(ROOT, file), path.join(projectDir, file));
  }
  process.env.CASTLE_PULUMI_STAND_IN = standIn;
  process.env.PATH = `${STAND_IN_BIN}${path.delimiter}${ORIGINAL_PATH}`;
});

after(() => {
  process.env.PATH = ORIGINAL_PATH;
  delete process.env.CASTLE_PULUMI_STAND_IN;
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("castle status", () => {
  it("shows every stack: deployed, last update, healthy, endpoint, versions, contract, fingerprint", async () => {
    setState({ stacks: { blue: deployedBlue(), green: { resourceCount: 0, outputs: {}, history: [] } } });
    const { code, out, err } = await castle(["status"]);
    assert.equal(code, 0, err);
    const [header, blue, green] = out.split("\n");
    assert.match(
      header,
      /^stack +deployed +last update +healthy +endpoint +talos +kubernetes +contract +key fingerprint$/,
    );
    assert.match(
      blue,
      /^blue +yes +update succeeded 2026-11-30T09:06:12Z +yes +https:\/\/10\.20\.0\.10:6443 +v1\.13\.9 +1\.36\.3 +v1\.13 +sha256:0f3a9c1d$/,
    );
    assert.match(green, /^green +no +never +- +- +- +- +- +-$/);
    for (const secret of SENTINELS) assert.ok(!out.includes(secret));
  });

  it("--json gives the same for scripts", async () => {
    setState({ stacks: { blue: deployedBlue() } });
    const { code, out } = await castle(["status", "--json"]);
    assert.equal(code, 0);
    const states = JSON.parse(out);
    assert.deepEqual(states, [
      {
        stack: "blue",
        stackFile: true,
        inBackend: true,
        deployed: true,
        healthy: true,
        lastUpdate: { kind: "update", result: "succeeded", time: "2026-11-30T09:06:12Z" },
        endpoint: "https://10.20.0.10:6443",
        fingerprint: "sha256:0f3a9c1d",
        contract: "v1.13",
        talosVersion: "v1.13.9",
        kubernetesVersion: "1.36.3",
      },
      { stack: "green", stackFile: true, inBackend: false, deployed: false, healthy: false },
    ]);
  });

  it("a failed last update is not healthy", async () => {
    const blue = deployedBlue();
    blue.history[0].result = "failed";
    setState({ stacks: { blue } });
    const { code, out } = await castle(["status"]);
    assert.equal(code, 0);
    assert.match(out.split("\n")[1], /^blue +yes +update failed \S+ +no /);
  });

  it("asks the CLI for its version once, however many stacks it reads", async () => {
    setState({ stacks: { blue: deployedBlue(), green: deployedBlue() } });
    // A PATH not seen before, so that the look-up is not one an earlier test made.
    process.env.PATH = `${STAND_IN_BIN}${path.delimiter}${STAND_IN_BIN}${path.delimiter}${ORIGINAL_PATH}`;
    try {
      const { code, err } = await castle(["status"]);
      assert.equal(code, 0, err);
    } finally {
      process.env.PATH = `${STAND_IN_BIN}${path.delimiter}${ORIGINAL_PATH}`;
    }
    const ran = calls();
    assert.equal(ran.filter((c) => c[0] === "version").length, 1);
    assert.deepEqual(
      ran
        .filter((c) => c[0] === "stack" && c[1] === "select")
        .map((c) => c[c.indexOf("--stack") + 1])
        .sort(),
      ["blue", "green"],
    );
  });

  it("states a backend error for every stack, never 'not deployed', and exits 1", async () => {
    setState({ stacks: {}, backendError: "failed to load checkpoint: blob (code=Unknown): dial tcp: i/o timeout" });
    const { code, out } = await castle(["status"]);
    assert.equal(code, 1);
    assert.match(out, /^blue +unknown +unknown/m);
    assert.match(out, /^blue: status unknown: cannot list the stacks: failed to load checkpoint: .*i\/o timeout$/m);
    assert.match(out, /^green: status unknown: /m);
    assert.doesNotMatch(out, /not deployed|not in backend/);
  });

  it("says so when there is no Pulumi CLI", async () => {
    const empty = mkdtempSync(path.join(tmpdir(), "castle-no-pulumi-"));
    dirs.push(empty);
    process.env.PATH = empty;
    try {
      const { code, out } = await castle(["status", "--json"]);
      assert.equal(code, 1);
      const states = JSON.parse(out) as { stack: string; error?: string }[];
      assert.deepEqual(
        states.map((s) => [s.stack, s.error]),
        [
          ["blue", "the Pulumi CLI is not installed or not on PATH (https://www.pulumi.com/docs/install/)"],
          ["green", "the Pulumi CLI is not installed or not on PATH (https://www.pulumi.com/docs/install/)"],
        ],
      );
    } finally {
      process.env.PATH = `${STAND_IN_BIN}${path.delimiter}${ORIGINAL_PATH}`;
    }
  });
});

describe("castle kubeconfig and talosconfig", () => {
  beforeEach(() => setState({ stacks: { blue: deployedBlue() } }));

  it("writes the kubeconfig with mode 0600 in a new folder with mode 0700, printing only the path", async () => {
    const home = mkdtempSync(path.join(tmpdir(), "castle-access-"));
    dirs.push(home);
    const file = path.join(home, "new", "folder", "blue.yaml");
    const { code, out, err } = await castle(["kubeconfig", "blue", "--out", file]);
    assert.equal(code, 0, err);
    assert.equal(out, file);
    assert.match(err, /export KUBECONFIG=/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.equal(statSync(path.join(home, "new")).mode & 0o777, 0o700);
    assert.equal(
      readFileSync(file, "utf8"),
      `# written by castle kubeconfig blue; do not share: it grants admin access\n${KUBECONFIG}`,
    );
    for (const secret of SENTINELS) assert.ok(!out.includes(secret) && !err.includes(secret));
    // The secret outputs were read with --show-secrets, through the Automation API.
    assert.ok(calls().some((c) => c.join(" ").startsWith("stack output --json --show-secrets --stack blue")));

    // Again: it replaces its own file, still 0600.
    assert.equal((await castle(["kubeconfig", "blue", "--out", file])).code, 0);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it("writes the talosconfig to ~/.talos/castle-<stack>.yaml by default", async () => {
    const home = mkdtempSync(path.join(tmpdir(), "castle-home-"));
    dirs.push(home);
    const { code, out } = await castle(["talosconfig", "blue"], { HOME: home });
    assert.equal(code, 0);
    const file = path.join(home, ".talos", "castle-blue.yaml");
    assert.equal(out, file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.match(readFileSync(file, "utf8"), /SENTINEL-TALOS-KEY-a7c3/);
  });

  it("--out - writes the content to standard output, and nothing else there", async () => {
    const { code, out, written } = await castle(["kubeconfig", "blue", "--out", "-"]);
    assert.equal(code, 0);
    assert.equal(out, "");
    assert.equal(written, KUBECONFIG);
  });

  it("never overwrites a file it did not write", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "castle-access-"));
    dirs.push(dir);
    const file = path.join(dir, "config");
    writeFileSync(file, "my own kubeconfig\n");
    const { code, err } = await castle(["kubeconfig", "blue", "--out", file]);
    assert.equal(code, 1);
    assert.match(err, /exists and was not written by castle; it is left as it is/);
    assert.equal(readFileSync(file, "utf8"), "my own kubeconfig\n");
    const folder = await castle(["talosconfig", "blue", "--out", dir]);
    assert.equal(folder.code, 1);
    assert.match(folder.err, /is a folder; give a file path with --out/);
  });

  it("says when the stack is not deployed or unknown to the backend", async () => {
    setState({ stacks: { blue: { resourceCount: 0, outputs: {}, history: [] } } });
    const dir = mkdtempSync(path.join(tmpdir(), "castle-access-"));
    dirs.push(dir);
    const none = await castle(["kubeconfig", "blue", "--out", path.join(dir, "k")]);
    assert.equal(none.code, 1);
    assert.match(none.err, /the stack has no kubeconfig output; it is not deployed/);
    const unknown = await castle(["talosconfig", "green", "--out", path.join(dir, "t")]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /the backend has no stack "green"/);
  });
});

describe("castle recreate through the Automation API", () => {
  const CLIENT_ID = "castle-recreate-identity";
  const CLIENT_SECRET = "SENTINEL-RECREATE-CLIENT-SECRET-22e0";
  const PROJECT = "4f6c2a8e-7b1d-4c3e-9a5f-2d8b6e1c0a97";
  const VALUES: Record<string, string> = {
    TALOS_SECRETBOX_KEY: Buffer.from("recreate-sentinel-secretbox-k-32").toString("base64"),
    PROXMOX_TOKEN_ID: "sentinel-recreate@pve!token",
    PROXMOX_TOKEN_SECRET: "SENTINEL-RECREATE-PVE-SECRET-0b1e",
    ESO_CLIENT_ID: "SENTINEL-RECREATE-ESO-ID-7d21",
    ESO_CLIENT_SECRET: "SENTINEL-RECREATE-ESO-SECRET-9c4a",
  };
  const ENV = { INFISICAL_CLIENT_ID: CLIENT_ID, INFISICAL_CLIENT_SECRET: CLIENT_SECRET };
  let infisical: InfisicalStandIn;
  let proxmox: ProxmoxStandIn;
  let dir: string;

  before(async () => {
    infisical = new InfisicalStandIn({
      identities: [
        {
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          grants: [{ projectId: PROJECT, environment: "prod", paths: ["/castle/blue"] }],
        },
        // The cluster's identity, which the pre-flight's doctor proves reads its own folder only.
        {
          clientId: VALUES.ESO_CLIENT_ID,
          clientSecret: VALUES.ESO_CLIENT_SECRET,
          grants: [{ projectId: PROJECT, environment: "prod", paths: ["/apps/blue"] }],
        },
      ],
    });
    await infisical.start();
    // The guard's Proxmox read in the pre-flight: blue's nodes, online, no VM on blue's IDs.
    proxmox = new ProxmoxStandIn({
      tokenId: VALUES.PROXMOX_TOKEN_ID,
      tokenSecret: VALUES.PROXMOX_TOKEN_SECRET,
      nodes: { pve1: { state: "online" }, pve2: { state: "online" }, pve3: { state: "online" } },
    });
    await proxmox.start();
    dir = mkdtempSync(path.join(tmpdir(), "castle-recreate-"));
    dirs.push(dir);
    for (const file of ["Pulumi.yaml", "Pulumi.green.yaml"]) cpSync(path.join(ROOT, file), path.join(dir, file));
    const blue = parseDocument(readFileSync(path.join(ROOT, "Pulumi.blue.yaml"), "utf8"));
    blue.setIn(["config", "castle:infisical", "siteUrl"], infisical.siteUrl);
    blue.setIn(["config", "castle:proxmox", "endpoint"], proxmox.endpoint);
    blue.setIn(["config", "castle:proxmox", "insecureSkipTlsVerify"], true);
    writeFileSync(path.join(dir, "Pulumi.blue.yaml"), blue.toString());
    mkdirSync(path.join(dir, "sub"));
  });
  after(async () => {
    await infisical.close();
    await proxmox.close();
  });

  const useSecrets = (values: Record<string, string>) => {
    const secrets = Object.entries(values).map(([key, value]) => ({ key, value }));
    infisical.projects = {
      [PROJECT]: {
        prod: {
          "/castle/blue": secrets,
          "/apps/blue": [{ key: "FLUX_GIT_TOKEN", value: "SENTINEL-RECREATE-GIT-TOKEN" }],
        },
      },
    };
  };
  const ran = () => calls().map((c) => c.slice(0, 2).join(" "));

  it("destroys, then brings the stack up, printing each phase and its time", async () => {
    useSecrets(VALUES);
    setState({
      stacks: { blue: deployedBlue(), green: deployedBlue() },
      upOutputs: { outputs: { ...BLUE_OUTPUTS, endpoint: "https://10.20.0.10:6443" }, secret: SECRET_OUTPUTS },
    });
    const { code, out, err } = await castle(["recreate", "blue", "--yes"], ENV, path.join(dir, "sub"));
    assert.equal(code, 0, `${out}\n${err}`);
    const order = ran().filter((c) => c === "destroy --yes" || c === "up --yes");
    assert.deepEqual(order, ["destroy --yes", "up --yes"]);
    const destroy = (calls().find((c) => c[0] === "destroy") ?? []).join(" ");
    assert.match(destroy, /^destroy --yes --skip-preview .*--stack blue\b/);
    assert.ok(
      calls()
        .find((c) => c[0] === "destroy")
        ?.includes("--refresh"),
      destroy,
    );
    assert.ok(
      !calls()
        .find((c) => c[0] === "up")
        ?.includes("--refresh"),
    );
    // The dead cluster's objects may leave the state in the destroy alone.
    assert.deepEqual(envLog(), [
      { command: "destroy", PULUMI_K8S_DELETE_UNREACHABLE: "true" },
      { command: "up", PULUMI_K8S_DELETE_UNREACHABLE: null },
    ]);
    const lines = out.split("\n");
    const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    assert.ok(at(/^== pre-flight/) < at(/^== pre-flight.*: done in \d+\.\d s$/));
    assert.ok(at(/^all 5 secrets ok$/) > 0, "the pre-flight fetched the secrets from Infisical");
    assert.ok(at(/^proxmox ok: 0 of the stack's 5 VM IDs hold castle blue's VMs, the others are free$/) > 0, out);
    assert.ok(proxmox.requests.some((r) => r.path === "/api2/json/nodes" && r.authorized));
    assert.ok(at(/^== pulumi destroy --stack blue$/) < at(/^Destroying \(blue\):$/));
    assert.ok(at(/^== pulumi destroy --stack blue: done in/) < at(/^== pulumi up --stack blue$/));
    assert.ok(at(/^Updating \(blue\):$/) < at(/^== pulumi up --stack blue: done in/));
    assert.match(lines.at(-1) ?? "", /^recreated "blue": pre-flight \d+\.\d s, destroy \d+\.\d s, up \d+\.\d s$/);
    assert.equal((state().stacks.blue as { resourceCount: number }).resourceCount, 29);
    for (const secret of [...Object.values(VALUES), CLIENT_SECRET])
      assert.ok(!out.includes(secret) && !err.includes(secret));
  });

  it("refuses with nothing destroyed when a secret is missing in Infisical", async () => {
    const { TALOS_SECRETBOX_KEY: _missing, ...rest } = VALUES;
    useSecrets(rest);
    setState({ stacks: { blue: deployedBlue(), green: deployedBlue() } });
    const { code, out, err } = await castle(["recreate", "blue", "--yes"], ENV, dir);
    assert.equal(code, 1);
    assert.match(out, /TALOS_SECRETBOX_KEY +secretboxKey +missing/);
    assert.match(err, /the pre-flight failed \(see above\); nothing was destroyed/);
    assert.deepEqual(
      ran().filter((c) => c.startsWith("destroy") || c.startsWith("up")),
      [],
    );
  });

  it("refuses with nothing destroyed when the Infisical credentials are missing", async () => {
    useSecrets(VALUES);
    setState({ stacks: { blue: deployedBlue() } });
    const { code, err } = await castle(["recreate", "blue", "--yes"], {}, dir);
    assert.equal(code, 1);
    assert.match(err, /INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET are not set/);
    assert.deepEqual(calls(), [], "the Pulumi CLI was not even asked");
  });

  it("refuses with nothing destroyed when the stack file does not pass check", async () => {
    const broken = mkdtempSync(path.join(tmpdir(), "castle-recreate-broken-"));
    dirs.push(broken);
    cpSync(path.join(ROOT, "Pulumi.yaml"), path.join(broken, "Pulumi.yaml"));
    const blue = readFileSync(path.join(dir, "Pulumi.blue.yaml"), "utf8").replace(
      "cidr: 10.20.0.0/24",
      "cidr: 10.20.0.5/24",
    );
    writeFileSync(path.join(broken, "Pulumi.blue.yaml"), blue);
    setState({ stacks: { blue: deployedBlue() } });
    const { code, out, err } = await castle(["recreate", "blue", "--yes"], ENV, broken);
    assert.equal(code, 1);
    assert.match(out, /^== pre-flight/);
    assert.match(err, /castle:network\.cidr: 10\.20\.0\.5\/24 has host bits set/);
    assert.match(err, /the stack file does not pass check; nothing was destroyed/);
    assert.deepEqual(calls(), [], "the Pulumi CLI was not even asked");
  });

  it("a status error is fatal, never read as 'not deployed'", async () => {
    useSecrets(VALUES);
    setState({ stacks: {}, backendError: "could not reach the backend s3://castle-state: dial tcp: no route to host" });
    const { code, err } = await castle(["recreate", "blue", "--yes"], ENV, dir);
    assert.equal(code, 1);
    assert.match(
      err,
      /cannot read the stacks' status: could not reach the backend s3:\/\/castle-state: dial tcp: no route to host\. Nothing was destroyed/,
    );
    assert.deepEqual(
      ran().filter((c) => c.startsWith("destroy") || c.startsWith("up")),
      [],
    );
  });

  it("one stack's status that cannot be read stops it too, never read as 'not deployed'", async () => {
    useSecrets(VALUES);
    setState({
      stacks: { blue: deployedBlue(), green: deployedBlue() },
      outputError: { green: "failed to decrypt the stack's outputs: passphrase incorrect" },
    });
    const { code, err } = await castle(["recreate", "blue", "--yes"], ENV, dir);
    assert.equal(code, 1);
    assert.match(err, /cannot read the stacks' status: .*passphrase incorrect\. Nothing was destroyed/);
    assert.deepEqual(
      ran().filter((c) => c.startsWith("destroy") || c.startsWith("up")),
      [],
    );
  });

  it("with one color to keep up, probes the other color's recorded endpoint before destroying", async () => {
    useSecrets(VALUES);
    const keep = mkdtempSync(path.join(tmpdir(), "castle-recreate-keep-"));
    dirs.push(keep);
    for (const file of ["Pulumi.yaml", "Pulumi.green.yaml"]) cpSync(path.join(dir, file), path.join(keep, file));
    const blue = parseDocument(readFileSync(path.join(dir, "Pulumi.blue.yaml"), "utf8"));
    blue.setIn(["config", "castle:guards"], { keepOneColorUp: true });
    writeFileSync(path.join(keep, "Pulumi.blue.yaml"), blue.toString());
    const api = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
    const { port } = api.address() as AddressInfo;
    const green = { ...deployedBlue(), outputs: { ...BLUE_OUTPUTS, endpoint: `https://127.0.0.1:${port}` } };
    try {
      setState({
        stacks: { blue: deployedBlue(), green },
        upOutputs: { outputs: BLUE_OUTPUTS, secret: SECRET_OUTPUTS },
      });
      const answered = await castle(["recreate", "blue", "--yes"], ENV, keep);
      assert.equal(answered.code, 0, answered.err);
    } finally {
      await new Promise((resolve) => api.close(resolve));
    }
    // The same endpoint with nothing listening: green was healthy at its last update, and is not now.
    setState({ stacks: { blue: deployedBlue(), green } });
    const silent = await castle(["recreate", "blue", "--yes"], ENV, keep);
    assert.equal(silent.code, 1);
    assert.match(
      silent.err,
      /green is healthy at its last update, but its Kubernetes API does not answer now \(nothing listens/,
    );
    assert.deepEqual(
      ran().filter((c) => c.startsWith("destroy") || c.startsWith("up")),
      [],
    );
  });

  it("stops before the destroy when Proxmox cannot be read, or a VM it did not create holds one of its IDs", async () => {
    useSecrets(VALUES);
    setState({ stacks: { blue: deployedBlue() } });
    proxmox.options.nodes.pve1 = { state: "online", vms: [{ vmid: 2021, name: "gitlab-runner", tags: ["ci"] }] };
    const foreign = await castle(["recreate", "blue", "--yes"], ENV, dir);
    assert.equal(foreign.code, 1);
    assert.match(
      foreign.err,
      /the up after the destroy would be refused:\n {2}- VM 2021 on Proxmox node pve1 \(castle:workers\[0\]\.vmId\) exists and is not castle blue's/,
    );

    proxmox.options.nodes.pve1 = { state: "online" };
    proxmox.options.nodes.pve3 = { state: "offline" };
    const offline = await castle(["recreate", "blue", "--yes"], ENV, dir);
    assert.equal(offline.code, 1);
    assert.match(offline.err, /Proxmox node pve3 is not online/);
    proxmox.options.nodes.pve3 = { state: "online" };

    useSecrets({ ...VALUES, PROXMOX_TOKEN_SECRET: "SENTINEL-RECREATE-STALE-PVE-SECRET" });
    const denied = await castle(["recreate", "blue", "--yes"], ENV, dir);
    assert.equal(denied.code, 1);
    assert.match(
      denied.err,
      /could not tell which of the stack's VM IDs exist .*HTTP 401 response - Reason: invalid token value!/,
    );
    assert.ok(!denied.err.includes("SENTINEL-RECREATE-STALE-PVE-SECRET"));
    assert.deepEqual(
      ran().filter((c) => c.startsWith("destroy") || c.startsWith("up")),
      [],
    );
  });

  it("stops after a failed destroy with the CLI's error", async () => {
    useSecrets(VALUES);
    setState({ stacks: { blue: deployedBlue() }, fail: { destroy: "proxmox: 401 authentication failure" } });
    const { code, err } = await castle(["recreate", "blue", "--yes"], ENV, dir);
    assert.equal(code, 1);
    assert.match(
      err,
      /pulumi destroy of stack "blue" failed: proxmox: 401 authentication failure\nNothing was created/,
    );
    assert.deepEqual(
      ran().filter((c) => c.startsWith("destroy") || c.startsWith("up")),
      ["destroy --yes"],
    );
  });
});
