/**
 * The re-keying guard's first line: what actually runs on Proxmox. The stack's outputs are written
 * only after a successful `up`; a first `up` that failed after the config apply (a health or Helm
 * timeout), a lost state or a renamed output leave a live cluster with no recorded fingerprint. Its
 * control-plane VMs carry the key fingerprint and the Talos contract as tags (lib/guard-tags.ts), so
 * before any castle resource is registered the program reads each of the stack's VM IDs through the
 * Proxmox provider (`getVmLegacy`, by node and VM ID) and compares.
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
  proxmoxNode: string;
  /** `castle:controlPlanes[0].vmId` */
  key: string;
  /** Undefined: no VM with this ID on that node. */
  found?: { name: string; tags: string[] };
}

/** The invoke's error text, as the engine passes it (the provider's message). */
function errorText(error: unknown): string {
  const e = error as { details?: unknown; message?: unknown } | undefined;
  if (typeof e?.details === "string" && e.details !== "") return e.details;
  return typeof e?.message === "string" ? e.message : String(error);
}

/**
 * Whether a failed `getVmLegacy` means "no such VM": PVE answers HTTP 500 "Configuration file
 * 'nodes/<node>/qemu-server/<id>.conf' does not exist", which the provider reports as "the requested
 * resource does not exist" (or with PVE's own text in older releases).
 */
export function isVmMissing(error: unknown): boolean {
  return /does not exist/i.test(errorText(error));
}

export class ProxmoxReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProxmoxReadError";
  }
}

/** Reads every VM ID of the stack on its Proxmox node. Any answer but "does not exist" that is an error is fatal. */
export async function readCastleVms(
  stack: string,
  config: CastleConfig,
  provider: proxmox.Provider,
): Promise<ObservedVm[]> {
  return Promise.all(
    nodesWithPaths(config).map(async ({ node, role, path }): Promise<ObservedVm> => {
      const observed: ObservedVm = {
        hostname: node.hostname,
        role,
        vmId: node.vmId,
        proxmoxNode: node.proxmoxNode,
        key: `castle:${path[0]}[${path[1]}].vmId`,
      };
      try {
        const vm = await proxmox.getVmLegacy({ nodeName: node.proxmoxNode, vmId: node.vmId }, { provider });
        // The provider answers an empty id when PVE returned no data for the VM: no VM either.
        if (!vm.id) return observed;
        return { ...observed, found: { name: vm.name ?? "", tags: [...(vm.tags ?? [])] } };
      } catch (error) {
        if (isVmMissing(error)) return observed;
        throw new ProxmoxReadError(
          `stack "${stack}": could not read VM ${node.vmId} on Proxmox node ${node.proxmoxNode} (${observed.key}) at ${config.proxmox.endpoint} to check what runs there: ${errorText(error).replace(/\s+/g, " ").slice(0, 300)}. ` +
            "Nothing was changed. Check the endpoint, the API token's VM.Audit privilege and that the node is online, then run again.",
        );
      }
    }),
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
  const list = (vms: ObservedVm[]) => vms.map((vm) => `${vm.hostname} (VM ${vm.vmId} on ${vm.proxmoxNode})`).join(", ");

  const foreign = observed.filter(
    (vm) => vm.found && !(vm.found.tags.includes(CASTLE_TAG) && vm.found.tags.includes(config.clusterName)),
  );
  for (const vm of foreign) {
    problems.push(
      `VM ${vm.vmId} on Proxmox node ${vm.proxmoxNode} (${vm.key}) exists and is not castle ${config.clusterName}'s: it is named ${JSON.stringify(vm.found?.name)} with tags [${vm.found?.tags.join(", ")}], without the tags ${CASTLE_TAG} and ${config.clusterName}. ` +
        `Choose a free VM ID for ${vm.hostname}, or remove that VM if it is garbage; the castle never takes over a VM it did not create.`,
    );
  }

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
