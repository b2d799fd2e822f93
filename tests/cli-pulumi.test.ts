/**
 * The commands that need a deployment (status, kubeconfig, talosconfig, recreate), run through their
 * real wiring: `main` -> Pulumi's Automation API (LocalWorkspace) -> a `pulumi` executable, here the
 * stand-in tests/support/bin/pulumi put first on PATH. It logs every call, so the tests see what was
 * asked of the CLI and in which order.
 */
import assert from "node:assert/strict";
import {
  chmodSync,
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { parseDocument } from "yaml";
import { main } from "../cli/castle";
import { nodeForBarePulumi } from "../cli/deploy";
import { InfisicalStandIn } from "../offline/infisical-stand-in";
import { INFISICAL_KEY } from "./fixtures/etcd/keys";
import { blueIdentities, RunningCastle } from "./support/running-castle";

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
  hang?: string[];
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
    stdio: "pipe",
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

  it("reads each stack with --stack: never stack select, never --show-secrets, no version look-up", async () => {
    setState({ stacks: { blue: deployedBlue(), green: deployedBlue() } });
    const { code, err } = await castle(["status"]);
    assert.equal(code, 0, err);
    const ran = calls();
    assert.deepEqual(ran.map((c) => c.join(" ")).sort(), [
      "stack history --json --page-size 1 --page 1 --stack blue --non-interactive",
      "stack history --json --page-size 1 --page 1 --stack green --non-interactive",
      "stack ls --json --non-interactive",
      "stack output --json --stack blue --non-interactive",
      "stack output --json --stack green --non-interactive",
    ]);
  });

  it("a secret config value of the last update is not read: the history comes blinded", async () => {
    const blue = deployedBlue();
    const secretConfig = { ...DEPLOYED_CONFIG, "castle:kubernetesVersion": { value: "1.36.3", secret: true } };
    blue.config = secretConfig;
    blue.history[0].config = secretConfig;
    blue.outputs = { ...BLUE_OUTPUTS };
    setState({ stacks: { blue } });
    const { code, out } = await castle(["status", "blue", "--json"]);
    assert.equal(code, 0);
    const [state] = JSON.parse(out);
    assert.equal(state.kubernetesVersion, undefined, "a secret config value is never shown");
    assert.equal(state.talosVersion, "v1.13.9", "a plain object value is read");
  });

  it("status <stack> shows that stack only", async () => {
    setState({ stacks: { blue: deployedBlue(), green: deployedBlue() } });
    const { code, out, err } = await castle(["status", "blue"]);
    assert.equal(code, 0, err);
    const lines = out.split("\n");
    assert.equal(lines.length, 2);
    assert.match(lines[1], /^blue +yes /);
    assert.ok(!calls().some((c) => c.includes("green")), "green was not read");
    const json = await castle(["status", "Pulumi.green.yaml", "--json"]);
    assert.deepEqual(
      JSON.parse(json.out).map((s: { stack: string }) => s.stack),
      ["green"],
    );
    const none = await castle(["status", "purple"]);
    assert.equal(none.code, 1);
    assert.match(
      none.err,
      /no stack "purple": the project has no Pulumi\.purple\.yaml and the backend has no such stack/,
    );
  });

  it("a CLI that stops answering makes that stack's status an error within the deadline", async () => {
    setState({ stacks: { blue: deployedBlue(), green: deployedBlue() }, hang: ["stack history"] });
    // The history read hangs; on a loaded machine another read may miss the deadline too, so each stack's
    // error names a read that did not answer, whichever it was.
    const { code, out } = await castle(["status", "--json"], { CASTLE_PULUMI_TIMEOUT: "1" });
    assert.equal(code, 1);
    const states = JSON.parse(out) as { stack: string; deployed: unknown; healthy: unknown; error?: string }[];
    assert.deepEqual(
      states.map((s) => s.stack),
      ["blue", "green"],
    );
    for (const s of states) {
      assert.equal(s.deployed, null, "never false when it cannot tell");
      assert.equal(s.healthy, null);
      assert.match(
        s.error ?? "",
        /`pulumi stack \w+ --json[^`]*` did not answer within 1 s \(CASTLE_PULUMI_TIMEOUT\)$/,
      );
    }
    const table = await castle(["status", "blue"], { CASTLE_PULUMI_TIMEOUT: "1" });
    assert.equal(table.code, 1);
    assert.match(table.out, /^blue +unknown +unknown/m);
    assert.match(table.out, /^blue: status unknown: .*did not answer within 1 s/m);
    assert.ok(
      calls().some((c) => c[0] === "stack" && c[1] === "history"),
      "the hanging read was started",
    );
  });

  it("a hanging stack list makes every stack unknown, and a bad deadline is refused", async () => {
    setState({ stacks: { blue: deployedBlue() }, hang: ["stack ls"] });
    const { code, out } = await castle(["status", "--json"], { CASTLE_PULUMI_TIMEOUT: "0.2" });
    assert.equal(code, 1);
    const states = JSON.parse(out) as { stack: string; inBackend: unknown; deployed: unknown; error: string }[];
    assert.deepEqual(
      states.map((s) => [s.stack, s.inBackend, s.deployed]),
      [
        ["blue", null, null],
        ["green", null, null],
      ],
    );
    assert.match(states[0].error, /cannot list the stacks: `pulumi stack ls --json` did not answer within 0\.2 s/);
    const bad = await castle(["status"], { CASTLE_PULUMI_TIMEOUT: "soon" });
    assert.equal(bad.code, 1);
    assert.match(bad.out, /CASTLE_PULUMI_TIMEOUT must be a number of seconds above 0, not "soon"/);
  });

  it("states a backend error for every stack, never 'not deployed', and exits 1", async () => {
    setState({ stacks: {}, backendError: "failed to load checkpoint: blob (code=Unknown): dial tcp: i/o timeout" });
    const { code, out } = await castle(["status"]);
    assert.equal(code, 1);
    assert.match(out, /^blue +unknown +unknown/m);
    assert.match(out, /^blue: status unknown: cannot list the stacks: failed to load checkpoint: .*i\/o timeout$/m);
    assert.match(out, /^green: status unknown: /m);
    assert.doesNotMatch(out, /not deployed|not in backend/);
    const json = await castle(["status", "--json"]);
    for (const s of JSON.parse(json.out)) {
      assert.deepEqual([s.inBackend, s.deployed, s.healthy], [null, null, null]);
      assert.match(s.error, /i\/o timeout/);
    }
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
          [
            "blue",
            "cannot list the stacks: the Pulumi CLI is not installed or not on PATH (https://www.pulumi.com/docs/install/)",
          ],
          [
            "green",
            "cannot list the stacks: the Pulumi CLI is not installed or not on PATH (https://www.pulumi.com/docs/install/)",
          ],
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
    // A stack with no stack file is named as the missing file, before the Pulumi CLI is asked.
    writeFileSync(path.join(standIn, "calls.log"), "");
    const noFile = await castle(["kubeconfig", "purple", "--out", path.join(dir, "p")]);
    assert.equal(noFile.code, 1);
    assert.match(
      noFile.err,
      /^castle kubeconfig: no stack file .*Pulumi\.purple\.yaml: is "purple" the stack's name\?/,
    );
    assert.deepEqual(calls(), []);
  });
});

describe("castle kubeconfig and talosconfig --merge", () => {
  // A kubeconfig and a talosconfig as Talos writes them for the cluster "blue": cluster <name>, user and
  // context admin@<name> (siderolabs/talos v1.13.0 pkg/kubeconfig/generate.go); talosconfig context <name>
  // (pkg/machinery/client/config/config.go NewConfig).
  const TALOS_KUBECONFIG = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "    - name: blue",
    "      cluster:",
    "        server: https://10.20.0.10:6443",
    "        certificate-authority-data: Q0EtYmx1ZQ==",
    "contexts:",
    "    - context:",
    "        cluster: blue",
    "        namespace: default",
    "        user: admin@blue",
    "      name: admin@blue",
    "current-context: admin@blue",
    "users:",
    "    - name: admin@blue",
    "      user:",
    "        client-certificate-data: Q1JU",
    "        client-key-data: SENTINEL-KUBE-KEY-31f9",
    "",
  ].join("\n");
  const TALOS_TALOSCONFIG =
    "context: blue\ncontexts:\n    blue:\n        endpoints:\n            - 10.20.0.11\n        ca: Q0E=\n        key: SENTINEL-TALOS-KEY-a7c3\n";
  const USER_KUBECONFIG = [
    "# my clusters",
    "apiVersion: v1",
    "clusters:",
    "- cluster:",
    "    server: https://prod.example:6443",
    "  name: prod",
    "contexts:",
    "- context: {cluster: prod, user: me}",
    "  name: prod",
    "current-context: prod",
    "kind: Config",
    "preferences: {}",
    "users:",
    "- name: me",
    "  user: {token: my-own-token}",
    "",
  ].join("\n");
  let home: string;
  beforeEach(() => {
    const blue = {
      ...deployedBlue(),
      outputs: { ...BLUE_OUTPUTS, kubeconfig: TALOS_KUBECONFIG, talosconfig: TALOS_TALOSCONFIG },
    };
    setState({ stacks: { blue } });
    home = mkdtempSync(path.join(tmpdir(), "castle-merge-home-"));
    dirs.push(home);
  });

  it("adds the castle's cluster, user and context to ~/.kube/config, keeping every other entry and mode 0600", async () => {
    mkdirSync(path.join(home, ".kube"));
    const file = path.join(home, ".kube", "config");
    writeFileSync(file, USER_KUBECONFIG, { mode: 0o644 });
    const { code, out, err } = await castle(["kubeconfig", "blue", "--merge"], { HOME: home });
    assert.equal(code, 0, err);
    assert.equal(out, file);
    assert.match(err, /merged context admin@blue; use it with: kubectl --context admin@blue/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const merged = readFileSync(file, "utf8");
    // The user's own entries, comment and current context, byte for byte.
    for (const line of USER_KUBECONFIG.split("\n")) assert.ok(merged.includes(line), line);
    const config = parseDocument(merged).toJS();
    assert.equal(config["current-context"], "prod", "a merge never switches the user's cluster");
    assert.deepEqual(
      config.contexts.map((c: { name: string }) => c.name),
      ["prod", "admin@blue"],
    );
    assert.deepEqual(config.contexts[1].context.extensions, [{ name: "castle", extension: { stack: "blue" } }]);
    assert.equal(config.users[1].user["client-key-data"], "SENTINEL-KUBE-KEY-31f9");
    assert.ok(!out.includes("SENTINEL") && !err.includes("SENTINEL"));

    // Again, after a recreation: its own entries are replaced, nothing is added twice.
    const recreated = state();
    (recreated.stacks.blue as { outputs: Record<string, string> }).outputs.kubeconfig = TALOS_KUBECONFIG.replace(
      "10.20.0.10",
      "10.20.0.99",
    );
    setState(recreated);
    assert.equal((await castle(["kubeconfig", "blue", "--merge"], { HOME: home })).code, 0);
    const again = parseDocument(readFileSync(file, "utf8")).toJS();
    assert.equal(again.clusters.length, 2);
    assert.equal(again.clusters[1].cluster.server, "https://10.20.0.99:6443");
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it("creates ~/.kube/config (0600, folder 0700) when there is none, with the castle's context current", async () => {
    const { code, err } = await castle(["kubeconfig", "blue", "--merge"], { HOME: home });
    assert.equal(code, 0, err);
    const file = path.join(home, ".kube", "config");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.equal(parseDocument(readFileSync(file, "utf8")).toJS()["current-context"], "admin@blue");
    assert.match(err, /now the current context/);
  });

  it("refuses to replace an entry of the same name that castle did not write, leaving the file as it was", async () => {
    mkdirSync(path.join(home, ".kube"));
    const file = path.join(home, ".kube", "config");
    const own = USER_KUBECONFIG.replace("  name: prod\ncontexts", "  name: blue\ncontexts");
    writeFileSync(file, own, { mode: 0o600 });
    const { code, err } = await castle(["kubeconfig", "blue", "--merge"], { HOME: home });
    assert.equal(code, 1);
    assert.match(err, /has a cluster "blue" that castle did not write; it is left as it is/);
    assert.equal(readFileSync(file, "utf8"), own);
  });

  it("never writes through a symbolic link", async () => {
    mkdirSync(path.join(home, ".kube"));
    const real = path.join(home, "elsewhere.yaml");
    writeFileSync(real, USER_KUBECONFIG, { mode: 0o600 });
    symlinkSync(real, path.join(home, ".kube", "config"));
    const { code, err } = await castle(["kubeconfig", "blue", "--merge"], { HOME: home });
    assert.equal(code, 1);
    assert.match(err, /is a symbolic link; castle does not write through links/);
    assert.equal(readFileSync(real, "utf8"), USER_KUBECONFIG);
    assert.ok(lstatSync(path.join(home, ".kube", "config")).isSymbolicLink());
  });

  it("adds the castle's context to ~/.talos/config, keeping the user's, or to the --out file", async () => {
    mkdirSync(path.join(home, ".talos"));
    const file = path.join(home, ".talos", "config");
    const mine = "context: home\ncontexts:\n    home:\n        endpoints:\n            - 192.168.1.5\n";
    writeFileSync(file, mine);
    chmodSync(file, 0o640);
    const { code, err } = await castle(["talosconfig", "blue", "--merge"], { HOME: home });
    assert.equal(code, 0, err);
    assert.match(err, /merged context blue; use it with: talosctl --context blue/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const merged = parseDocument(readFileSync(file, "utf8")).toJS();
    assert.equal(merged.context, "home");
    assert.deepEqual(Object.keys(merged.contexts), ["home", "blue"]);
    assert.deepEqual(merged.contexts.home, { endpoints: ["192.168.1.5"] });
    assert.equal(merged.contexts.blue.key, "SENTINEL-TALOS-KEY-a7c3");
    // A context "blue" the user made is theirs.
    const other = path.join(home, "other-talosconfig");
    writeFileSync(other, "context: blue\ncontexts:\n    blue:\n        endpoints: [10.1.1.1]\n");
    const refused = await castle(["talosconfig", "blue", "--merge", "--out", other], { HOME: home });
    assert.equal(refused.code, 1);
    assert.match(refused.err, /has a context "blue" that castle did not write; it is left as it is/);
  });

  it("--merge with --out - is refused", async () => {
    const { code, err } = await castle(["kubeconfig", "blue", "--merge", "--out", "-"], { HOME: home });
    assert.equal(code, 2);
    assert.match(err, /--merge writes into a file/);
  });
});

describe("castle up and castle preview", () => {
  let project: string;
  let oldNodeBin: string;
  before(() => {
    project = mkdtempSync(path.join(tmpdir(), "castle-up-"));
    dirs.push(project);
    for (const file of ["Pulumi.yaml", "Pulumi.blue.yaml", "Pulumi.green.yaml"]) {
      cpSync(path.join(ROOT, file), path.join(project, file));
    }
    // A shell whose own node is 20: a wrapper reporting v20 to the version probe, running the real node.
    oldNodeBin = mkdtempSync(path.join(tmpdir(), "castle-node20-"));
    dirs.push(oldNodeBin);
    writeFileSync(
      path.join(oldNodeBin, "node"),
      `#!/bin/sh\nif [ "$1" = "-p" ] || [ "$1" = "--version" ]; then echo v20.19.0; exit 0; fi\nexec "${process.execPath}" "$@"\n`,
      { mode: 0o755 },
    );
  });
  /** PATH as a shell with Node 20 has it: the stand-in pulumi, then node 20, no node_modules/.bin. */
  const shellPath = () =>
    [
      STAND_IN_BIN,
      oldNodeBin,
      ...ORIGINAL_PATH.split(path.delimiter).filter((d) => !d.endsWith(path.join("node_modules", ".bin"))),
    ].join(path.delimiter);

  it("runs the real pulumi up with the project's Node 22 first on PATH, passing every flag through", async () => {
    symlinkSync(path.join(ROOT, "node_modules"), path.join(project, "node_modules"));
    setState({ stacks: { blue: deployedBlue() } });
    const { code, out, err } = await castle(["up", "blue", "--yes", "--diff"], { PATH: shellPath() }, project);
    assert.equal(code, 0, err);
    assert.match(
      err,
      /^castle up: pulumi up --stack blue --yes --diff \(Node v22\.\d+\.\d+ from .*node_modules\/\.bin\)$/m,
    );
    assert.match(out, /^Updating \(blue\):$/m);
    const ran = calls();
    assert.deepEqual(ran[0], ["up", "--stack", "blue", "--yes", "--diff"]);
    assert.match(ran[1][1], /^v22\./, "the program ran on the project's Node 22, not the shell's 20");

    const preview = await castle(["preview", "Pulumi.blue.yaml", "--diff"], { PATH: shellPath() }, project);
    assert.equal(preview.code, 0, preview.err);
    assert.match(preview.out, /^Previewing update \(blue\):$/m);
    assert.deepEqual(calls().at(-2), ["preview", "--stack", "blue", "--diff"]);
    assert.match(calls().at(-1)?.[1] ?? "", /^v22\./);
  });

  it("doctor's line on the node a bare pulumi up would use: the shell's, past node_modules/.bin, with the fix", () => {
    const npxPath = [path.join(ROOT, "node_modules", ".bin"), oldNodeBin].join(path.delimiter);
    const old = nodeForBarePulumi({ PATH: npxPath }, "blue");
    assert.equal(old.ok, false);
    assert.equal(
      old.line,
      `node for a bare pulumi up: v20.19.0 (${path.join(oldNodeBin, "node")}) is older than the Node 22 @pulumi/pulumi 3.276 needs: npx castle up blue (and npx castle preview blue) run pulumi with the project's Node 22; or put Node 22 first on PATH`,
    );
    const newNodeBin = mkdtempSync(path.join(tmpdir(), "castle-node22-"));
    dirs.push(newNodeBin);
    writeFileSync(path.join(newNodeBin, "node"), "#!/bin/sh\necho v22.23.3\n", { mode: 0o755 });
    const current = nodeForBarePulumi({ PATH: [newNodeBin, oldNodeBin].join(path.delimiter) }, "blue");
    assert.deepEqual(current, {
      ok: true,
      line: `node for a bare pulumi up: v22.23.3 (${path.join(newNodeBin, "node")}): ok`,
    });
    assert.match(
      nodeForBarePulumi({ PATH: "" }, "green").line,
      /^node for a bare pulumi up: none on PATH; npx castle up green/,
    );
  });

  it("passes pulumi's exit code on, and refuses a second stack, a missing stack file or a missing Node", async () => {
    setState({ stacks: { blue: deployedBlue() }, fail: { up: "proxmox: 401 authentication failure" } });
    const failed = await castle(["up", "blue", "--yes"], { PATH: shellPath() }, project);
    assert.equal(failed.code, 255);
    assert.match(failed.err, /error: proxmox: 401 authentication failure/);

    const twice = await castle(["up", "blue", "--stack", "green"], { PATH: shellPath() }, project);
    assert.equal(twice.code, 2);
    assert.match(twice.err, /the stack is the first argument \(castle up blue\); drop --stack/);

    const missing = await castle(["up", "purple"], { PATH: shellPath() }, project);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no stack file .*Pulumi\.purple\.yaml: is "purple" the stack's name\?/);

    const bare = await castle(["preview", "blue"], { PATH: shellPath() }, projectDir);
    assert.equal(bare.code, 1);
    assert.match(bare.err, /node_modules\/\.bin\/node is missing: run npm ci in /);
    assert.ok(!calls().some((c) => c[0] === "preview"), "pulumi was not started without Node 22");
  });
});

describe("castle recreate through the Automation API", () => {
  const CLIENT_ID = "castle-recreate-identity";
  const CLIENT_SECRET = "SENTINEL-RECREATE-CLIENT-SECRET-22e0";
  const PROJECT = "4f6c2a8e-7b1d-4c3e-9a5f-2d8b6e1c0a97";
  const VALUES: Record<string, string> = {
    // The key the etcd fixture's Secrets are sealed with: castle verify runs after up.
    TALOS_SECRETBOX_KEY: Buffer.from(INFISICAL_KEY).toString("base64"),
    PROXMOX_TOKEN_ID: "sentinel-recreate@pve!token",
    PROXMOX_TOKEN_SECRET: "SENTINEL-RECREATE-PVE-SECRET-0b1e",
    ESO_CLIENT_ID: "SENTINEL-RECREATE-ESO-ID-7d21",
    ESO_CLIENT_SECRET: "SENTINEL-RECREATE-ESO-SECRET-9c4a",
    GITOPS_CLIENT_ID: "SENTINEL-RECREATE-GITOPS-ID-5a3c",
    GITOPS_CLIENT_SECRET: "SENTINEL-RECREATE-GITOPS-SECRET-81f0",
  };
  const ENV: Record<string, string> = { INFISICAL_CLIENT_ID: CLIENT_ID, INFISICAL_CLIENT_SECRET: CLIENT_SECRET };
  /** What castle verify reads after up: talosctl, kubectl and Proxmox stand-ins. */
  const running = new RunningCastle();
  let infisical: InfisicalStandIn;
  let dir: string;

  before(async () => {
    // The pre-flight's doctor proves the cluster's and the Git credential's walls.
    infisical = new InfisicalStandIn({
      identities: blueIdentities(PROJECT, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, VALUES),
    });
    await Promise.all([infisical.start(), running.start()]);
    ENV.PROXMOX_VE_ENDPOINT = running.proxmox.endpoint;
    dir = mkdtempSync(path.join(tmpdir(), "castle-recreate-"));
    dirs.push(dir);
    for (const file of ["Pulumi.yaml", "Pulumi.green.yaml"]) cpSync(path.join(ROOT, file), path.join(dir, file));
    const blue = parseDocument(readFileSync(path.join(ROOT, "Pulumi.blue.yaml"), "utf8"));
    blue.setIn(["config", "castle:infisical", "siteUrl"], infisical.siteUrl);
    blue.setIn(["config", "castle:proxmox", "insecureSkipTlsVerify"], true);
    writeFileSync(path.join(dir, "Pulumi.blue.yaml"), blue.toString());
    mkdirSync(path.join(dir, "sub"));
  });
  after(() => Promise.all([infisical.close(), running.close()]));

  const useSecrets = (values: Record<string, string>) => {
    const secrets = Object.entries(values).map(([key, value]) => ({ key, value }));
    infisical.projects = {
      [PROJECT]: {
        prod: {
          "/castle/blue": secrets,
          "/apps/blue": [{ key: "GRAFANA_ADMIN_PASSWORD", value: "SENTINEL-RECREATE-APP-VALUE" }],
          "/gitops/blue": [
            { key: "FLUX_GIT_TOKEN", value: "SENTINEL-RECREATE-GIT-TOKEN" },
            { key: "GIT_CA_CERT", value: "SENTINEL-RECREATE-GIT-CA" },
          ],
        },
      },
    };
  };
  const ran = () => calls().map((c) => c.slice(0, 2).join(" "));

  const healthyAfterUp = (snapshot = "sealed.db") =>
    running.healthy({
      key: VALUES.TALOS_SECRETBOX_KEY,
      proxmoxToken: `${VALUES.PROXMOX_TOKEN_ID}=${VALUES.PROXMOX_TOKEN_SECRET}`,
      snapshot,
    });

  it("destroys, then brings the stack up and verifies it, printing each phase and its time", async () => {
    useSecrets(VALUES);
    healthyAfterUp();
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
    // The user's current stack changes only to the stack recreate was asked about.
    const selected = calls().filter((c) => c[0] === "stack" && c[1] === "select");
    assert.ok(selected.length > 0);
    for (const c of selected) assert.equal(c[c.indexOf("--stack") + 1] ?? c[2], "blue", c.join(" "));
    // The dead cluster's objects may leave the state in the destroy alone.
    assert.deepEqual(envLog(), [
      { command: "destroy", PULUMI_K8S_DELETE_UNREACHABLE: "true" },
      { command: "up", PULUMI_K8S_DELETE_UNREACHABLE: null },
    ]);
    const lines = out.split("\n");
    const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    assert.ok(at(/^== pre-flight/) < at(/^== pre-flight.*: done in \d+\.\d s$/));
    assert.ok(at(/^all 7 secrets ok$/) > 0, "the pre-flight fetched the secrets from Infisical");
    assert.ok(
      at(/^the Git credential.s identity reads its own folder only, and the cluster.s identity cannot read it$/) > 0,
      "the pre-flight proved the Git credential.s wall",
    );
    // The running castle's control planes, marked with the key: the destroy removes them.
    assert.ok(at(/^proxmox ok: 3 of the stack's 5 VM IDs hold castle blue's VMs, the others are free$/) > 0, out);
    assert.ok(running.proxmox.requests.includes("GET /api2/json/nodes"));
    assert.ok(at(/^== pulumi destroy --stack blue$/) < at(/^Destroying \(blue\):$/));
    assert.ok(at(/^== pulumi destroy --stack blue: done in/) < at(/^== pulumi up --stack blue$/));
    assert.ok(at(/^Updating \(blue\):$/) < at(/^== pulumi up --stack blue: done in/));
    assert.ok(at(/^== pulumi up --stack blue: done in/) < at(/^== castle verify blue$/));
    assert.ok(at(/^all 6 checks passed: castle "blue" is what its stack says$/) > 0, "verify ran after up");
    assert.match(
      lines.at(-1) ?? "",
      /^recreated "blue": pre-flight \d+\.\d s, destroy \d+\.\d s, up \d+\.\d s, verify \d+\.\d s$/,
    );
    assert.equal((state().stacks.blue as { resourceCount: number }).resourceCount, 29);
    for (const secret of [...Object.values(VALUES), CLIENT_SECRET])
      assert.ok(!out.includes(secret) && !err.includes(secret));
  });

  it("reports a castle that is up but fails verify (a Secret in plain text in etcd): exit 1, the Secret named", async () => {
    useSecrets(VALUES);
    healthyAfterUp("mixed.db");
    setState({
      stacks: { blue: deployedBlue(), green: deployedBlue() },
      upOutputs: { outputs: BLUE_OUTPUTS, secret: SECRET_OUTPUTS },
    });
    const { code, out, err } = await castle(["recreate", "blue", "--yes"], ENV, dir);
    assert.equal(code, 1);
    assert.match(
      out,
      /^etcd-secrets-sealed-with-infisical-key +FAIL .*apps\/plain-text \(revision 10\): stored in plain text/m,
    );
    assert.match(out, /^== castle verify blue: stopped in \d+\.\d s$/m);
    assert.match(err, /the castle is up again, but castle verify failed \(see above\)/);
    assert.equal((state().stacks.blue as { resourceCount: number }).resourceCount, 29, "up went through");
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
    healthyAfterUp();
    const keep = mkdtempSync(path.join(tmpdir(), "castle-recreate-keep-"));
    dirs.push(keep);
    for (const file of ["Pulumi.yaml", "Pulumi.green.yaml"]) cpSync(path.join(dir, file), path.join(keep, file));
    const blue = parseDocument(readFileSync(path.join(dir, "Pulumi.blue.yaml"), "utf8"));
    blue.setIn(["config", "castle:guards"], { keepOneColorUp: true });
    writeFileSync(path.join(keep, "Pulumi.blue.yaml"), blue.toString());
    // A TLS server that answers an anonymous request 401, as Talos' kube-apiserver does: the Proxmox
    // stand-in of the running castle (castle verify's) serves as one.
    const port = new URL(running.proxmox.endpoint).port;
    const green = { ...deployedBlue(), outputs: { ...BLUE_OUTPUTS, endpoint: `https://127.0.0.1:${port}` } };
    setState({ stacks: { blue: deployedBlue(), green } });
    // Without --yes and a terminal, recreate stops right after a pre-flight that passed.
    const answered = await castle(["recreate", "blue"], ENV, keep);
    assert.match(answered.out, /^== pre-flight .*: done in/m, answered.err);
    assert.match(answered.err, /no terminal to confirm on; pass --yes/);
    assert.ok(running.proxmox.requests.includes("GET /readyz"), "the probe asked the API");
    // An endpoint where nothing listens: green was healthy at its last update, and is not now.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const free = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    green.outputs = { ...BLUE_OUTPUTS, endpoint: `https://127.0.0.1:${free}` };
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
    healthyAfterUp();
    const castleVms = running.proxmox.vms;
    running.proxmox.vms = [...castleVms, { node: "pve1", vmId: 2021, name: "gitlab-runner", tags: ["ci"] }];
    const foreign = await castle(["recreate", "blue", "--yes"], ENV, dir);
    assert.equal(foreign.code, 1);
    assert.match(
      foreign.err,
      /the up after the destroy would be refused:\n {2}- VM 2021 on Proxmox node pve1 \(castle:workers\[0\]\.vmId\) exists and is not castle blue's/,
    );

    running.proxmox.vms = castleVms;
    running.proxmox.nodes = { pve9: "offline" };
    const offline = await castle(["recreate", "blue", "--yes"], ENV, dir);
    assert.equal(offline.code, 1);
    assert.match(offline.err, /Proxmox node pve9 is not online/);
    running.proxmox.nodes = {};

    useSecrets({ ...VALUES, PROXMOX_TOKEN_SECRET: "SENTINEL-RECREATE-STALE-PVE-SECRET" });
    const denied = await castle(["recreate", "blue", "--yes"], ENV, dir);
    assert.equal(denied.code, 1);
    assert.match(
      denied.err,
      /could not tell which of the stack's VM IDs exist .*HTTP 401 response - Reason: authentication failure/,
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
