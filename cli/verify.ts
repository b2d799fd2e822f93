/**
 * `castle verify <stack> [--json]`: a read-only acceptance of a running castle, one row per check.
 *
 * What it reads, and with what:
 * - the stack's outputs (talosconfig, kubeconfig) through the Pulumi CLI (`stack output --show-secrets
 *   --stack`, within CASTLE_PULUMI_TIMEOUT, as kubeconfig and talosconfig read them), written for the tools into a
 *   private temporary folder (0700, files 0600) that is removed when verify ends, whatever happens;
 * - the castle's secrets from Infisical, with the same fetch the program uses (config/infisical.ts);
 * - etcd through `talosctl etcd snapshot` from the first control plane, into that folder, read into
 *   memory and deleted at once (lib/etcd-snapshot.ts, lib/etcd-encryption.ts);
 * - the control planes' tags from the Proxmox cluster's VM list, read as the guard reads it
 *   (config/proxmox-api.ts);
 * - Kubernetes through `kubectl` (on PATH; a CLI rather than @kubernetes/client-node, so verify adds no
 *   dependency, reads exactly what an operator would type, and is tested with a stand-in on PATH).
 *
 * Never printed: a decrypted value, a key, a token, a kubeconfig or talosconfig. A tool that is missing,
 * a node that does not answer, a stack that is not deployed: each is a failed check with its reason.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { credentialsFromEnv } from "../config/infisical-credentials";
import { withHostOverrides } from "../config/overrides";
import { listProxmoxCluster } from "../config/proxmox-api";
import type { ProxmoxCluster } from "../config/running-castle";
import type { CastleConfig } from "../config/schema";
import type { CastleSecretValues } from "../config/secrets";
import {
  judgeEso,
  judgeFlux,
  judgeMarks,
  judgeVersions,
  type KubeNode,
  type KubeObject,
  listSome,
  type MarkedVm,
  type Verdict,
} from "../lib/acceptance";
import { judgeSecrets, TALOS_SECRETBOX_KEY_NAME } from "../lib/etcd-encryption";
import { readEtcdSnapshot } from "../lib/etcd-snapshot";
import { FLUX_INSTANCE_NAME, FLUX_NAMESPACE, FLUX_PULL_SECRET_EXTERNAL_SECRET } from "../lib/flux-manifests";
import { secretboxKeyFingerprint } from "../lib/secretbox";
import { STACK_OUTPUTS } from "../lib/stack-outputs";
import { CASTLE_TAG } from "../lib/vm-spec";
import { check, formatTable } from "./check";

/** The checks, in the order they are shown; each name says what a pass proves. */
export const VERIFY_CHECKS = {
  etcd: "etcd-secrets-sealed-with-infisical-key",
  marks: "control-planes-marked-with-infisical-key-and-contract",
  eso: "eso-stores-and-externalsecrets-ready",
  flux: "flux-ready-at-configured-ref",
  identities: "infisical-identities-walled",
  versions: "nodes-run-configured-versions",
} as const;

export interface CheckResult {
  check: string;
  ok: boolean;
  detail: string;
  /** How long the check took, in milliseconds (shown in the table, left out of --json). */
  ms?: number;
}

export interface VerifyIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
}

/** How long a tool may take: an etcd snapshot streams the whole database. */
const TALOSCTL_TIMEOUT_MS = 300_000;
const KUBECTL_TIMEOUT_MS = 60_000;

/** A tool that could not run or failed, said in one line (its own last error line). */
class ToolError extends Error {}

/** Runs a tool from PATH; its output is returned, never printed. */
function runTool(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return reject(new ToolError(`${command} is not installed or not on PATH`));
      if ((error as { killed?: boolean }).killed) {
        return reject(new ToolError(`${command} gave no answer in ${timeoutMs / 1000} s`));
      }
      // The tool's own error line: talosctl prints it first (then, for some errors, its usage), kubectl
      // after klog lines (`E1203 12:00:00.000000 ...`) that repeat the cause.
      const lines = String(stderr)
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
      const said = lines.find((l) => !/^[EWIF]\d{4} /.test(l)) ?? lines.at(-1) ?? `exit code ${error.code}`;
      reject(new ToolError(`${command} failed: ${said.slice(0, 400)}`));
    });
  });
}

/** What every check starts from. Secrets stay in memory; `dir` holds the access files. */
interface Inputs {
  stack: string;
  config: CastleConfig;
  dir: string;
  secrets?: CastleSecretValues;
  /** Why the secrets could not be fetched. */
  secretsError?: string;
  talosconfig?: string;
  kubeconfig?: string;
  /** Why the stack's access files are missing (not deployed, backend unreachable). */
  outputsError?: string;
}

const fail = (detail: string): Verdict => ({ ok: false, detail });

/** The reason a check cannot run without the Infisical secrets or the stack's access files. */
function missing(inputs: Inputs, need: { secrets?: boolean; talos?: boolean; kube?: boolean }): string | undefined {
  if (need.secrets && !inputs.secrets) return `not run: ${inputs.secretsError}`;
  if ((need.talos && !inputs.talosconfig) || (need.kube && !inputs.kubeconfig))
    return `not run: ${inputs.outputsError}`;
  return undefined;
}

async function etcdCheck(inputs: Inputs): Promise<Verdict> {
  const why = missing(inputs, { secrets: true, talos: true });
  if (why || !inputs.secrets || !inputs.talosconfig) return fail(why ?? "");
  const first = inputs.config.controlPlanes[0];
  const file = path.join(inputs.dir, "etcd.snapshot");
  let snapshot: Buffer;
  try {
    // siderolabs/talos v1.13.9 cmd/talosctl/cmd/talos/etcd.go: `etcd snapshot <path>` against one node
    // (`--nodes`), with the persistent flag `--talosconfig` (cmd/talosctl/cmd/talos/root.go).
    await runTool(
      "talosctl",
      ["--talosconfig", inputs.talosconfig, "--nodes", first.ip, "etcd", "snapshot", file],
      TALOSCTL_TIMEOUT_MS,
    );
    snapshot = readFileSync(file);
  } catch (error) {
    return fail(`cannot take an etcd snapshot from ${first.hostname} (${first.ip}): ${(error as Error).message}`);
  } finally {
    rmSync(file, { force: true });
    rmSync(`${file}.part`, { force: true });
  }
  let report: ReturnType<typeof judgeSecrets>;
  const key = Buffer.from(inputs.secrets.secretboxKey, "base64");
  try {
    report = judgeSecrets(readEtcdSnapshot(snapshot).records, key, TALOS_SECRETBOX_KEY_NAME);
  } catch (error) {
    return fail(`the etcd snapshot of ${first.hostname} cannot be read: ${(error as Error).message}`);
  } finally {
    // The copy of etcd and of the key in this process go as soon as they are judged.
    snapshot.fill(0);
    key.fill(0);
  }
  const fingerprint = secretboxKeyFingerprint(inputs.secrets.secretboxKey);
  const read = `${report.records} etcd revisions from ${first.hostname}`;
  if (report.unsealed.length > 0) {
    const named = report.unsealed.map(
      (u) => `${u.secret} (revision ${u.revision}${u.latest ? "" : ", an older one"}): ${u.detail}`,
    );
    return fail(
      `${report.unsealed.length} of ${report.secretRevisions} Secret revisions are not sealed with the key in Infisical (${fingerprint}): ${listSome(named)} [${read}]`,
    );
  }
  if (report.secretRevisions === 0) {
    return fail(`no Secret in etcd (${read}): nothing shows which key kube-apiserver uses`);
  }
  return {
    ok: true,
    detail: `all ${report.secretRevisions} revisions of ${report.secrets} Secrets are secretbox:${TALOS_SECRETBOX_KEY_NAME} and open with the key in Infisical (${fingerprint}) [${read}]`,
  };
}

/**
 * The control planes' marks, read as the guard reads them: one list of every VM of the Proxmox cluster
 * (config/proxmox-api.ts, the provider's `getNodesLegacy` and `getVmsLegacy`), so a control plane that
 * moved to another node (an HA migration) is found there and judged by its tags. An ID not found while a
 * node is offline proves nothing, and fails as "cannot tell".
 */
async function marksCheck(inputs: Inputs): Promise<Verdict> {
  const why = missing(inputs, { secrets: true });
  if (why || !inputs.secrets) return fail(why ?? "");
  const { endpoint, insecureSkipTlsVerify } = inputs.config.proxmox;
  let cluster: ProxmoxCluster;
  try {
    cluster = await listProxmoxCluster({
      endpoint,
      tokenId: inputs.secrets.proxmoxTokenId,
      tokenSecret: inputs.secrets.proxmoxTokenSecret,
      insecure: insecureSkipTlsVerify,
    });
  } catch (error) {
    return fail(`cannot list the VMs of the Proxmox cluster at ${endpoint}: ${(error as Error).message}`);
  }
  const vms: MarkedVm[] = inputs.config.controlPlanes.map((cp) => {
    const found = cluster.vms.find((vm) => vm.vmId === cp.vmId);
    return { hostname: cp.hostname, vmId: cp.vmId, proxmoxNode: found?.nodeName ?? cp.proxmoxNode, tags: found?.tags };
  });
  const unseen = vms.filter((vm) => vm.tags === undefined);
  if (unseen.length > 0 && cluster.offline.length > 0) {
    return fail(
      `cannot tell: ${unseen.map((vm) => `VM ${vm.vmId}`).join(", ")} not found while Proxmox node${cluster.offline.length === 1 ? "" : "s"} ${cluster.offline.join(", ")} ${cluster.offline.length === 1 ? "is" : "are"} not online`,
    );
  }
  return judgeMarks(vms, {
    fingerprint: secretboxKeyFingerprint(inputs.secrets.secretboxKey),
    contract: inputs.config.talos.contract,
    clusterName: inputs.config.clusterName,
    castleTag: CASTLE_TAG,
  });
}

/** `kubectl get ... -o json` with the stack's kubeconfig: the items of the list. */
async function kubectlItems<T>(kubeconfig: string, args: string[]): Promise<T[]> {
  const text = await runTool(
    "kubectl",
    ["--kubeconfig", kubeconfig, "--request-timeout=30s", "get", ...args, "-o", "json"],
    KUBECTL_TIMEOUT_MS,
  );
  const parsed = JSON.parse(text) as { items?: T[] } & T;
  return Array.isArray(parsed.items) ? parsed.items : [parsed];
}

async function esoCheck(inputs: Inputs): Promise<Verdict> {
  const why = missing(inputs, { kube: true });
  if (why || !inputs.kubeconfig) return fail(why ?? "");
  const { eso, gitops } = inputs.config;
  const expected = eso.externalSecrets.map((es) => `${es.namespace}/${es.name}`);
  if (gitops?.credentials) expected.push(`${FLUX_NAMESPACE}/${FLUX_PULL_SECRET_EXTERNAL_SECRET}`);
  try {
    const [objects, secretNames] = await Promise.all([
      // One request per type, in one kubectl call; `--all-namespaces` leaves the cluster-scoped type as it is.
      kubectlItems<KubeObject>(inputs.kubeconfig, [
        "clustersecretstores.external-secrets.io,secretstores.external-secrets.io,externalsecrets.external-secrets.io",
        "--all-namespaces",
      ]),
      // Names only: the Secrets' data never reaches this process.
      runTool(
        "kubectl",
        [
          "--kubeconfig",
          inputs.kubeconfig,
          "--request-timeout=30s",
          "get",
          "secrets",
          "--all-namespaces",
          "-o",
          "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{'\\n'}{end}",
        ],
        KUBECTL_TIMEOUT_MS,
      ),
    ]);
    const secrets = new Set(secretNames.split("\n").filter(Boolean));
    const stores = objects.filter((o) => o.kind === "ClusterSecretStore" || o.kind === "SecretStore");
    const externalSecrets = objects.filter((o) => o.kind === "ExternalSecret");
    return judgeEso(stores, externalSecrets, secrets, {
      storeName: eso.storeName,
      externalSecrets: expected,
    });
  } catch (error) {
    return fail(`cannot read ESO's objects: ${(error as Error).message}`);
  }
}

async function fluxCheck(inputs: Inputs): Promise<Verdict> {
  const gitops = inputs.config.gitops;
  if (!gitops) return { ok: true, detail: "no castle:gitops in the stack: no Flux to check" };
  const why = missing(inputs, { kube: true });
  if (why || !inputs.kubeconfig) return fail(why ?? "");
  try {
    const objects = await kubectlItems<KubeObject>(inputs.kubeconfig, [
      "--namespace",
      FLUX_NAMESPACE,
      `fluxinstances.fluxcd.controlplane.io/${FLUX_INSTANCE_NAME}`,
      `gitrepositories.source.toolkit.fluxcd.io/${FLUX_NAMESPACE}`,
      `kustomizations.kustomize.toolkit.fluxcd.io/${FLUX_NAMESPACE}`,
    ]);
    return judgeFlux(objects, {
      instance: FLUX_INSTANCE_NAME,
      namespace: FLUX_NAMESPACE,
      syncName: FLUX_NAMESPACE,
      fluxVersion: gitops.fluxVersion,
      ref: gitops.ref,
    });
  } catch (error) {
    return fail(`cannot read Flux's objects: ${(error as Error).message}`);
  }
}

async function versionsCheck(inputs: Inputs): Promise<Verdict> {
  const why = missing(inputs, { kube: true });
  if (why || !inputs.kubeconfig) return fail(why ?? "");
  const { config } = inputs;
  try {
    const nodes = await kubectlItems<KubeNode>(inputs.kubeconfig, ["nodes"]);
    return judgeVersions(nodes, {
      hostnames: [...config.controlPlanes, ...config.workers].map((n) => n.hostname),
      talosVersion: config.talos.version,
      kubernetesVersion: config.kubernetesVersion,
    });
  } catch (error) {
    return fail(`cannot read the nodes: ${(error as Error).message}`);
  }
}

/**
 * The identity walls: `castle doctor`'s proof, run as doctor runs it, so that every identity doctor
 * proves (the list lives there, once) is proven here too. Its output is kept, never printed.
 */
async function identitiesCheck(projectDir: string, inputs: Inputs, env: NodeJS.ProcessEnv): Promise<Verdict> {
  const { doctor } = require("./doctor") as typeof import("./doctor");
  const out: string[] = [];
  const err: string[] = [];
  const code = await doctor(projectDir, inputs.stack, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  if (code === 0) return { ok: true, detail: `castle doctor: ${out.at(-1) ?? "passed"}` };
  const why = err.map((l) => l.replace(/^castle doctor: /, "")).join(" ");
  return fail(`castle doctor failed: ${why.slice(0, 600) || (out.at(-1) ?? "")}`);
}

/** Reads the stack's access files (secret outputs) into the private folder. */
async function readAccess(projectDir: string, inputs: Inputs, env: NodeJS.ProcessEnv): Promise<void> {
  const { pulumiReadTimeoutMs, secretStackOutputs } = require("./pulumi-cli") as typeof import("./pulumi-cli");
  let outputs: Record<string, unknown>;
  try {
    outputs = await secretStackOutputs(projectDir, inputs.stack, pulumiReadTimeoutMs(env));
  } catch (error) {
    inputs.outputsError = `cannot read the stack's outputs: ${(error as Error).message}`;
    return;
  }
  for (const [field, name] of [
    ["talosconfig", STACK_OUTPUTS.talosconfig],
    ["kubeconfig", STACK_OUTPUTS.kubeconfig],
  ] as const) {
    const value = outputs[name];
    if (typeof value !== "string" || value.trim() === "") {
      inputs.outputsError = `stack "${inputs.stack}" has no ${name} output: it is not deployed or its last update did not finish (castle status shows where it stands)`;
      continue;
    }
    const file = path.join(inputs.dir, field);
    writeFileSync(file, value, { mode: 0o600, flag: "wx" });
    inputs[field] = file;
  }
}

/** Fetches the castle's secrets as the program does. */
async function readSecrets(inputs: Inputs, env: NodeJS.ProcessEnv): Promise<void> {
  const { fetchCastleSecrets } = require("../config/infisical") as typeof import("../config/infisical");
  try {
    inputs.secrets = await fetchCastleSecrets(inputs.config.infisical, credentialsFromEnv(env));
  } catch (error) {
    inputs.secretsError = `the castle's secrets could not be read from Infisical: ${(error as Error).message.split("\n")[0]}`;
  }
}

/** Runs every check against the running castle. Undefined when the stack file does not pass check. */
export async function runChecks(
  projectDir: string,
  stack: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  now: () => number = () => performance.now(),
): Promise<CheckResult[] | undefined> {
  const checked = check(projectDir, stack, log);
  if (checked.code !== 0 || checked.config === undefined) return undefined;
  let config: CastleConfig;
  try {
    config = withHostOverrides(stack, checked.config, env);
  } catch (error) {
    log((error as Error).message);
    return undefined;
  }
  const dir = mkdtempSync(path.join(tmpdir(), "castle-verify-"));
  try {
    chmodSync(dir, 0o700);
    const inputs: Inputs = { stack, config, dir };
    await Promise.all([readAccess(projectDir, inputs, env), readSecrets(inputs, env)]);
    const timed = async (name: string, run: () => Promise<Verdict>): Promise<CheckResult> => {
      const started = now();
      let verdict: Verdict;
      try {
        verdict = await run();
      } catch (error) {
        verdict = fail(`could not run: ${(error as Error).message}`);
      }
      return { check: name, ...verdict, ms: Math.round(now() - started) };
    };
    return await Promise.all([
      timed(VERIFY_CHECKS.etcd, () => etcdCheck(inputs)),
      timed(VERIFY_CHECKS.marks, () => marksCheck(inputs)),
      timed(VERIFY_CHECKS.eso, () => esoCheck(inputs)),
      timed(VERIFY_CHECKS.flux, () => fluxCheck(inputs)),
      timed(VERIFY_CHECKS.identities, () => identitiesCheck(projectDir, inputs, env)),
      timed(VERIFY_CHECKS.versions, () => versionsCheck(inputs)),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The table for the terminal. */
export function verifyTable(results: readonly CheckResult[]): string[] {
  return formatTable(
    ["check", "verdict", "time", "detail"],
    results.map((r) => [
      r.check,
      r.ok ? "pass" : "FAIL",
      r.ms === undefined ? "" : `${(r.ms / 1000).toFixed(1)} s`,
      r.detail,
    ]),
  );
}

/** Exit code 0 when every check passed, 1 otherwise. */
export async function verify(
  projectDir: string,
  stack: string,
  flags: { json: boolean },
  io: VerifyIo,
): Promise<number> {
  const log: string[] = [];
  const results = await runChecks(projectDir, stack, io.env, (line) => log.push(line));
  if (results === undefined) {
    for (const line of log) io.err(line);
    io.err(`castle verify ${stack}: the stack file does not pass castle check; nothing was read from the castle`);
    return 1;
  }
  const failed = results.filter((r) => !r.ok);
  if (flags.json) {
    io.out(JSON.stringify({ stack, checks: results.map(({ check, ok, detail }) => ({ check, ok, detail })) }, null, 2));
  } else {
    for (const line of verifyTable(results)) io.out(line);
    io.out(
      failed.length === 0
        ? `all ${results.length} checks passed: castle "${stack}" is what its stack says`
        : `${failed.length} of ${results.length} checks failed`,
    );
  }
  return failed.length === 0 ? 0 : 1;
}
