/**
 * `castle verify`'s verdicts on what the running castle reports: pure functions from what was read
 * (Proxmox tags, Kubernetes objects as `kubectl get -o json` prints them) to a pass or a failure with
 * a short reason. The reading is cli/verify.ts's; nothing here reads a secret value.
 */
import { readGuardTags } from "./guard-tags";

/** One row of `castle verify`. */
export interface Verdict {
  ok: boolean;
  detail: string;
}

/** A Kubernetes condition, as every controller here writes it (metav1.Condition). */
interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/** The parts of a Kubernetes object the verdicts read. */
export interface KubeObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string; generation?: number };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

const MAX_LISTED = 8;

/** `a, b, c and 4 more`. */
export function listSome(items: readonly string[], max = MAX_LISTED): string {
  if (items.length <= max) return items.join("; ");
  return `${items.slice(0, max).join("; ")}; and ${items.length - max} more`;
}

function ready(object: KubeObject): Condition | undefined {
  const conditions = object.status?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  return (conditions as Condition[]).find((c) => c.type === "Ready");
}

/** "" when the object's Ready condition is True, otherwise why not (reason and message, shortened). */
function notReady(object: KubeObject): string {
  const condition = ready(object);
  if (condition === undefined) return "no Ready condition yet";
  if (condition.status === "True") return "";
  const message = (condition.message ?? "").replace(/\s+/g, " ").slice(0, 200);
  return `Ready ${condition.status ?? "Unknown"}${condition.reason ? ` (${condition.reason})` : ""}${message ? `: ${message}` : ""}`;
}

const ref = (o: KubeObject) =>
  o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : (o.metadata?.name ?? "?");

// ---------------------------------------------------------------------------------------------
// The marks

/** One control plane's VM as Proxmox shows it (undefined tags: no VM with that ID). */
export interface MarkedVm {
  hostname: string;
  vmId: number;
  proxmoxNode: string;
  tags?: string[];
}

/**
 * The control planes carry the castle's tags, and the key fingerprint and contract as tags
 * (lib/guard-tags.ts) equal to the fingerprint of the key in Infisical and the configured contract.
 */
export function judgeMarks(
  vms: readonly MarkedVm[],
  expected: { fingerprint: string; contract: string; clusterName: string; castleTag: string },
): Verdict {
  const problems: string[] = [];
  for (const vm of vms) {
    const where = `${vm.hostname} (VM ${vm.vmId} on ${vm.proxmoxNode})`;
    if (vm.tags === undefined) {
      problems.push(`${where}: no such VM`);
      continue;
    }
    if (!vm.tags.includes(expected.castleTag) || !vm.tags.includes(expected.clusterName)) {
      problems.push(`${where}: not tagged ${expected.castleTag} and ${expected.clusterName}`);
      continue;
    }
    const marks = readGuardTags(vm.tags);
    if (marks.fingerprint !== expected.fingerprint) {
      problems.push(
        `${where}: key fingerprint ${marks.fingerprint ?? "missing"}, Infisical's key is ${expected.fingerprint}`,
      );
    }
    if (marks.contract !== expected.contract) {
      problems.push(`${where}: contract ${marks.contract ?? "missing"}, configured ${expected.contract}`);
    }
  }
  if (problems.length > 0) return { ok: false, detail: listSome(problems) };
  return {
    ok: true,
    detail: `${vms.length} control plane${vms.length === 1 ? "" : "s"} tagged with key ${expected.fingerprint} and contract ${expected.contract}`,
  };
}

// ---------------------------------------------------------------------------------------------
// ESO

/** What ESO must have made true: the stack's store and ExternalSecrets, and every other one found. */
export interface EsoExpectation {
  storeName: string;
  /** `namespace/name` of the ExternalSecrets the stack creates. */
  externalSecrets: string[];
}

/**
 * Every store (ClusterSecretStore or namespaced SecretStore) Ready now, the stack's own ClusterSecretStore
 * among them, and every ExternalSecret Ready, its
 * target Secret present, and synced after its last change: external-secrets/external-secrets v2.9.0
 * pkg/controllers/externalsecret/externalsecret_controller.go sets `status.syncedResourceVersion` to
 * pkg/controllers/util/util.go `GetResourceVersion`, `<metadata.generation>-<hash of labels and
 * annotations>`, on each sync; the target Secret is `spec.target.name`, the ExternalSecret's name by
 * default (apis/externalsecrets/v1/externalsecret_types.go).
 */
export function judgeEso(
  stores: readonly KubeObject[],
  externalSecrets: readonly KubeObject[],
  secrets: ReadonlySet<string>,
  expected: EsoExpectation,
): Verdict {
  const problems: string[] = [];
  if (!stores.some((s) => s.kind === "ClusterSecretStore" && s.metadata?.name === expected.storeName)) {
    problems.push(`ClusterSecretStore ${expected.storeName} is missing`);
  }
  for (const store of stores) {
    const why = notReady(store);
    if (why) problems.push(`${store.kind ?? "store"} ${ref(store)}: ${why}`);
  }
  const found = new Set(externalSecrets.map(ref));
  for (const name of expected.externalSecrets) {
    if (!found.has(name)) problems.push(`ExternalSecret ${name} is missing`);
  }
  for (const es of externalSecrets) {
    const why = notReady(es);
    if (why) {
      problems.push(`ExternalSecret ${ref(es)}: ${why}`);
      continue;
    }
    const synced = es.status?.syncedResourceVersion;
    const generation = es.metadata?.generation;
    if (typeof synced !== "string" || generation === undefined || !synced.startsWith(`${generation}-`)) {
      problems.push(
        `ExternalSecret ${ref(es)}: last synced at ${typeof synced === "string" ? `version ${synced}` : "no version"}, its spec is at generation ${generation ?? "?"}`,
      );
    }
    const targetName = (es.spec?.target as { name?: string } | undefined)?.name ?? es.metadata?.name;
    const target = `${es.metadata?.namespace}/${targetName}`;
    if (!secrets.has(target)) problems.push(`ExternalSecret ${ref(es)}: its target Secret ${target} is missing`);
  }
  if (problems.length > 0) return { ok: false, detail: listSome(problems) };
  return {
    ok: true,
    detail: `${stores.length} store${stores.length === 1 ? "" : "s"} Ready; ${externalSecrets.length} ExternalSecret${externalSecrets.length === 1 ? "" : "s"} Ready, synced at their current generation, targets present`,
  };
}

// ---------------------------------------------------------------------------------------------
// Flux

/**
 * The revision a Flux source reports for a commit of `ref`: fluxcd/pkg git/v0.52.0 git/git.go
 * `Commit.String()` keeps what follows the second `/` of the reference (`refs/heads/main` ->
 * `main@sha1:<hash>`); `AbsoluteReference()` keeps it whole. Both are accepted.
 */
export function revisionMatchesRef(revision: string, gitRef: string): boolean {
  const short = gitRef.split("/").slice(2).join("/");
  return [gitRef, short].some(
    (r) => r !== "" && /^(sha1|sha256):[0-9a-f]+$/.test(revision.slice(r.length + 1)) && revision.startsWith(`${r}@`),
  );
}

/**
 * The FluxInstance is Ready with the configured Flux version applied, and the sync (GitRepository and
 * Kustomization `flux-system`) is Ready at a commit of the configured reference.
 * controlplaneio-fluxcd/flux-operator v0.58.1: internal/builder/build.go writes the distribution's
 * revision as `<version>@<digest>` into `status.lastAppliedRevision`; source-controller reports the
 * fetched commit in `status.artifact.revision`, kustomize-controller the applied one in
 * `status.lastAppliedRevision`.
 */
export function judgeFlux(
  objects: readonly KubeObject[],
  expected: { instance: string; namespace: string; syncName: string; fluxVersion: string; ref: string },
): Verdict {
  const find = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata?.name === name && o.metadata?.namespace === expected.namespace);
  const instance = find("FluxInstance", expected.instance);
  const source = find("GitRepository", expected.syncName);
  const sync = find("Kustomization", expected.syncName);
  const problems: string[] = [];
  const version = `v${expected.fluxVersion.replace(/^v/, "")}`;
  if (!instance) problems.push(`FluxInstance ${expected.namespace}/${expected.instance} is missing`);
  else {
    const why = notReady(instance);
    if (why) problems.push(`FluxInstance ${ref(instance)}: ${why}`);
    const applied = instance.status?.lastAppliedRevision;
    if (typeof applied !== "string" || !applied.startsWith(`${version}@`)) {
      problems.push(`FluxInstance ${ref(instance)}: applied ${applied ?? "nothing"}, configured Flux ${version}`);
    }
  }
  const revisions: string[] = [];
  for (const [kind, object, revision] of [
    ["GitRepository", source, (source?.status?.artifact as { revision?: string } | undefined)?.revision],
    ["Kustomization", sync, sync?.status?.lastAppliedRevision],
  ] as const) {
    if (!object) {
      problems.push(`${kind} ${expected.namespace}/${expected.syncName} is missing`);
      continue;
    }
    const why = notReady(object);
    if (why) problems.push(`${kind} ${ref(object)}: ${why}`);
    if (typeof revision !== "string" || !revisionMatchesRef(revision, expected.ref)) {
      problems.push(`${kind} ${ref(object)}: at ${revision ?? "no revision"}, not a commit of ${expected.ref}`);
    } else revisions.push(revision);
  }
  if (problems.length > 0) return { ok: false, detail: listSome(problems) };
  return { ok: true, detail: `Flux ${version} Ready; ${expected.ref} applied at ${revisions[1] ?? revisions[0]}` };
}

// ---------------------------------------------------------------------------------------------
// Versions

/** A Node as `kubectl get nodes -o json` prints it. */
export interface KubeNode {
  metadata?: { name?: string };
  status?: { nodeInfo?: { osImage?: string; kubeletVersion?: string } };
}

/**
 * Every configured node is there, running the configured Talos and Kubernetes. The kubelet reports
 * the OS's `PRETTY_NAME` as `osImage`, which Talos writes `Talos (<version>)` (siderolabs/talos v1.13.9
 * pkg/machinery/version/os-release), and its own version as `kubeletVersion` (`v1.36.3`).
 */
export function judgeVersions(
  nodes: readonly KubeNode[],
  expected: { hostnames: string[]; talosVersion: string; kubernetesVersion: string },
): Verdict {
  const byName = new Map(nodes.map((n) => [n.metadata?.name ?? "", n]));
  const os = `Talos (${expected.talosVersion})`;
  const kubelet = `v${expected.kubernetesVersion.replace(/^v/, "")}`;
  const problems: string[] = [];
  for (const hostname of expected.hostnames) {
    const node = byName.get(hostname);
    if (!node) {
      problems.push(`${hostname}: not a node of the cluster`);
      continue;
    }
    const info = node.status?.nodeInfo ?? {};
    if (info.osImage !== os) problems.push(`${hostname}: runs ${info.osImage ?? "an unknown OS"}, configured ${os}`);
    if (info.kubeletVersion !== kubelet) {
      problems.push(`${hostname}: kubelet ${info.kubeletVersion ?? "unknown"}, configured ${kubelet}`);
    }
  }
  if (problems.length > 0) return { ok: false, detail: listSome(problems) };
  return { ok: true, detail: `${expected.hostnames.length} nodes run ${os} and Kubernetes ${kubelet}` };
}
