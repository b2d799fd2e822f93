/**
 * The re-keying guard's first line: what actually runs on Proxmox. The stack's outputs are written
 * only after a successful `up`; a first `up` that failed after the config apply (a health or Helm
 * timeout), a lost state or a renamed output leave a live cluster with no recorded fingerprint. Its
 * control-plane VMs carry the key fingerprint and the Talos contract as tags (lib/guard-tags.ts), so
 * before any castle resource is registered the program lists the VMs of the whole Proxmox cluster through
 * the Proxmox provider (`getVmsLegacy`, one read for all nodes, so a VM that moved is found too) and
 * compares what sits on each of the stack's VM IDs.
 *
 * The only registration this needs is the Proxmox provider itself (a provider changes nothing on
 * Proxmox); the StackReference check on the stack's outputs stays as the second line (guards.ts).
 */
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { readGuardTags } from "../lib/guard-tags";
import type { NodeRole } from "../lib/nodes";
import { CASTLE_TAG } from "../lib/vm-spec";
import type { GuardedValues } from "./guards";
import { nodesWithPaths } from "./rules";
import type { CastleConfig } from "./schema";
import type { CastleSecrets } from "./secrets";

/** The castle's Proxmox provider: the one every Proxmox resource of the stack uses. */
export function castleProxmoxProvider(config: CastleConfig, secrets: CastleSecrets): proxmox.Provider {
  return new proxmox.Provider("proxmox", {
    endpoint: config.proxmox.endpoint,
    apiToken: pulumi.interpolate`${secrets.proxmoxTokenId}=${secrets.proxmoxTokenSecret}`,
    insecure: config.proxmox.insecureSkipTlsVerify,
  });
}

/** What Proxmox holds on one of the stack's VM IDs. */
export interface ObservedVm {
  /** The stack's node this VM ID belongs to. */
  hostname: string;
  role: NodeRole;
  vmId: number;
  /** The Proxmox node the stack file places it on. */
  proxmoxNode: string;
  /** `castle:controlPlanes[0].vmId` */
  key: string;
  /** Undefined: no VM with this ID anywhere in the Proxmox cluster. `node` is where it runs now. */
  found?: { name: string; tags: string[]; node: string };
}

/** The invoke's error text, as the engine passes it (the provider's message). */
function errorText(error: unknown): string {
  const e = error as { details?: unknown; message?: unknown } | undefined;
  if (typeof e?.details === "string" && e.details !== "") return e.details;
  return typeof e?.message === "string" ? e.message : String(error);
}

export class ProxmoxReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProxmoxReadError";
  }
}

/**
 * Every VM of the Proxmox cluster and every node with whether it is online, in two cluster-wide reads
 * (bpg/terraform-provider-proxmox v0.111.1 proxmoxtf/datasource/vms.go and nodes.go; both files are the
 * same from v0.101.0 to the provider's main branch of July 2026). Facts of that source the guard relies on:
 * - `getVmsLegacy` without a node lists `GET /nodes`, then `GET /nodes/<node>/qemu` per node. A node that
 *   answers HTTP 595 (offline, unreachable) is skipped with a warning diagnostic, and the bridge drops
 *   warnings of a data source read (pulumi-terraform-bridge pkg/tfshim/sdk-v2/diagnostics.go `errors`):
 *   the list then silently lacks that node's VMs. Hence the node read: an ID not listed is "no such VM"
 *   only when every node is online.
 * - Any other failure fails the whole invoke. A successful read always has an id (a fresh UUID; "nodes"
 *   for `getNodesLegacy`); an answer without one is the engine's empty answer for a provider whose
 *   configuration is not known yet (pulumi pkg/resource/plugin/provider_plugin.go `Invoke`): nothing was read.
 * - PVE lists only the VMs the token may audit (VM.Audit): the token needs it on every castle VM ID.
 */
async function readCluster(provider: proxmox.Provider): Promise<ProxmoxCluster> {
  const [vms, nodes] = await Promise.all([
    proxmox.getVmsLegacy({}, { provider }),
    proxmox.getNodesLegacy({ provider }),
  ]);
  if (!vms?.id || !nodes?.id) {
    throw new Error("the Proxmox provider answered without reading anything (its configuration is not known yet)");
  }
  const names = nodes.names ?? [];
  const offline = names.filter((_, i) => nodes.onlines?.[i] !== true);
  return { vms: vms.vms ?? [], offline };
}

/** What the guard reads of the Proxmox cluster: every VM the token may see, and the nodes not online. */
export interface ProxmoxCluster {
  vms: { nodeName: string; vmId: number; name?: string; tags?: string[] }[];
  offline: string[];
}

function readFailure(stack: string, config: CastleConfig, why: string, next: string): ProxmoxReadError {
  return new ProxmoxReadError(
    `stack "${stack}": could not tell which of the stack's VM IDs exist on the Proxmox cluster at ${config.proxmox.endpoint}: ${why}. ` +
      `Nothing was changed. ${next}`,
  );
}

/** A failed read of the Proxmox cluster, as the guard reports it. */
export function proxmoxReadFailure(stack: string, config: CastleConfig, error: unknown): ProxmoxReadError {
  return readFailure(
    stack,
    config,
    errorText(error).replace(/\s+/g, " ").trim().slice(0, 300),
    "Check the endpoint, the API token's VM.Audit and Sys.Audit privileges and that the nodes are online, then run again.",
  );
}

/**
 * What sits on each of the stack's VM IDs, anywhere in the Proxmox cluster (a VM moved by HA or by hand
 * is found on its new node). Throws ProxmoxReadError when an ID is not found while a node is offline:
 * the VM may be there.
 */
export function observeCastleVms(stack: string, config: CastleConfig, cluster: ProxmoxCluster): ObservedVm[] {
  const byId = new Map<number, ProxmoxCluster["vms"][number]>();
  for (const vm of cluster.vms) if (!byId.has(vm.vmId)) byId.set(vm.vmId, vm);
  const observed = nodesWithPaths(config).map(({ node, role, path }): ObservedVm => {
    const vm = byId.get(node.vmId);
    return {
      hostname: node.hostname,
      role,
      vmId: node.vmId,
      proxmoxNode: node.proxmoxNode,
      key: `castle:${path[0]}[${path[1]}].vmId`,
      ...(vm ? { found: { name: vm.name ?? "", tags: [...(vm.tags ?? [])], node: vm.nodeName } } : {}),
    };
  });
  const unseen = observed.filter((vm) => !vm.found);
  if (unseen.length > 0 && cluster.offline.length > 0) {
    throw readFailure(
      stack,
      config,
      `Proxmox node${cluster.offline.length === 1 ? "" : "s"} ${cluster.offline.join(", ")} ${cluster.offline.length === 1 ? "is" : "are"} not online, and the provider skips a node that does not answer, so VM ${unseen.map((vm) => `${vm.vmId} (${vm.key})`).join(", ")} may exist there`,
      "Bring the node back online (or remove it from the Proxmox cluster), then run again.",
    );
  }
  return observed;
}

/**
 * Reads what Proxmox holds on every VM ID of the stack, through the castle's Proxmox provider. Throws
 * ProxmoxReadError on anything that does not prove "no such VM": a failed read, an empty answer, or an
 * ID not found while a node is offline.
 */
export async function readCastleVms(
  stack: string,
  config: CastleConfig,
  provider: proxmox.Provider,
): Promise<ObservedVm[]> {
  let cluster: ProxmoxCluster;
  try {
    cluster = await readCluster(provider);
  } catch (error) {
    throw proxmoxReadFailure(stack, config, error);
  }
  return observeCastleVms(stack, config, cluster);
}

/** The node a found VM runs on, saying so when it is not the one the stack file names (moved by HA or by hand). */
function where(vm: ObservedVm): string {
  const node = vm.found?.node ?? vm.proxmoxNode;
  return node === vm.proxmoxNode ? node : `${node}, not ${vm.proxmoxNode} as the stack file says`;
}

/** The VMs on the stack's IDs that are not this castle's (without its `castle` and cluster-name tags). */
function foreignVms(config: CastleConfig, observed: readonly ObservedVm[]): ObservedVm[] {
  return observed.filter(
    (vm) => vm.found && !(vm.found.tags.includes(CASTLE_TAG) && vm.found.tags.includes(config.clusterName)),
  );
}

/** One problem per VM on the stack's IDs that the castle did not create: no run may take those IDs. */
export function foreignVmProblems(config: CastleConfig, observed: readonly ObservedVm[]): string[] {
  return foreignVms(config, observed).map(
    (vm) =>
      `VM ${vm.vmId} on Proxmox node ${where(vm)} (${vm.key}) exists and is not castle ${config.clusterName}'s: it is named ${JSON.stringify(vm.found?.name)} with tags [${vm.found?.tags.join(", ")}], without the tags ${CASTLE_TAG} and ${config.clusterName}. ` +
      `Choose a free VM ID for ${vm.hostname}, or remove that VM if it is garbage; the castle never takes over a VM it did not create.`,
  );
}

/**
 * What in the running castle forbids this run: a VM on one of the stack's VM IDs that is not this
 * castle's, or a control plane marked with another key fingerprint or Talos contract. A control plane
 * without marks (built before they existed) is accepted only when the stack's outputs vouch for the
 * key (`previous`, the second line, then compares).
 */
export function runningCastleProblems(
  stack: string,
  config: CastleConfig,
  observed: readonly ObservedVm[],
  previous: Partial<GuardedValues>,
  current: GuardedValues,
): string[] {
  const problems: string[] = [];
  const recreate = `To replace the cluster on purpose: npx castle recreate ${stack} (pulumi destroy, then pulumi up with the new value).`;
  const list = (vms: ObservedVm[]) => vms.map((vm) => `${vm.hostname} (VM ${vm.vmId} on ${where(vm)})`).join(", ");

  const foreign = foreignVms(config, observed);
  problems.push(...foreignVmProblems(config, observed));

  const controlPlanes = observed.filter((vm) => vm.role === "controlPlane" && vm.found && !foreign.includes(vm));
  const byKey = new Map<string, ObservedVm[]>();
  const byContract = new Map<string, ObservedVm[]>();
  const unmarked: ObservedVm[] = [];
  for (const vm of controlPlanes) {
    const marks = readGuardTags(vm.found?.tags ?? []);
    if (marks.fingerprint === undefined) unmarked.push(vm);
    else if (marks.fingerprint !== current.fingerprint) {
      byKey.set(marks.fingerprint, [...(byKey.get(marks.fingerprint) ?? []), vm]);
    }
    if (marks.contract !== undefined && marks.contract !== current.contract) {
      byContract.set(marks.contract, [...(byContract.get(marks.contract) ?? []), vm]);
    }
  }
  for (const [fingerprint, vms] of byKey) {
    problems.push(
      `the secretbox key in Infisical (fingerprint ${current.fingerprint}) is not the key stack "${stack}"'s running control planes were created with: ${list(vms)} carry fingerprint ${fingerprint}. ` +
        "Applying it would make every Kubernetes Secret in etcd unreadable (kube-apiserver: 'failed to decrypt data'). " +
        `${recreate} Otherwise restore the previous key in Infisical.`,
    );
  }
  for (const [contract, vms] of byContract) {
    problems.push(
      `the Talos version contract changed from ${contract} to ${current.contract} (castle:talos.contract): ${list(vms)} run machine secrets generated for ${contract}. ` +
        `${recreate} Otherwise restore castle:talos.contract: ${contract}.`,
    );
  }
  if (unmarked.length > 0 && previous.fingerprint === undefined) {
    problems.push(
      `${list(unmarked)} ${unmarked.length === 1 ? "is a control plane" : "are control planes"} of castle ${config.clusterName} without a key fingerprint tag, and stack "${stack}" has no recorded fingerprint (no outputs): the key the cluster runs with cannot be told. ` +
        `${recreate} If you know it runs with the key now in Infisical, add the tag ${`castle-key-${current.fingerprint.replace(":", "-")}`} to those VMs in Proxmox and run again.`,
    );
  }
  return problems;
}
