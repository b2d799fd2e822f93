/**
 * The VmLegacy arguments of each castle node, as plain data (property names are `VmLegacyArgs`' own, checked
 * with `satisfies` against `@muhlba91/pulumi-proxmoxve` 8.6.0, upstream bpg/terraform-provider-proxmox
 * v0.112+), the VM tags, and the provider's drift traps.
 */
import type * as proxmox from "@muhlba91/pulumi-proxmoxve";
import type * as pulumi from "@pulumi/pulumi";
import { subnetOf } from "./net";
import type { CastleNode, NodeRole } from "./nodes";

/** Proxmox tag of each role (PVE tags are lower-case: a mixed-case tag would come back changed). */
const ROLE_TAGS: Record<NodeRole, string> = { controlPlane: "control-plane", worker: "worker" };

/** The tag every castle VM carries; with the cluster name, it tells the castle's VMs from any other. */
export const CASTLE_TAG = "castle";

/** Sorted, de-duplicated VM tags: Proxmox stores tags sorted, so unsorted tags are a perpetual diff. */
export function vmTags(clusterName: string, role: NodeRole, extra: readonly string[] = []): string[] {
  return [...new Set([CASTLE_TAG, clusterName, ROLE_TAGS[role], ...extra])].sort();
}

/** What every VM of the stack shares. */
export interface VmEnvironment {
  /** Cluster name (a DNS label): in the image file name, the VM tags and descriptions. */
  clusterName: string;
  /** Datastore of the system disk, EFI vars and cloud-init drive. */
  vmDatastore: string;
  /** Linux bridge the VMs attach to, e.g. `vmbr0`. */
  bridge: string;
  /** VLAN tag of the VM network interface. Default: none (untagged). */
  vlanId?: number;
  /** Proxmox CPU type; Talos needs x86-64-v2 or better (e.g. `host`, `x86-64-v2-AES`). */
  cpuType: string;
  /** Node subnet in CIDR form; its prefix is given to each VM's static address. */
  cidr: string;
  /** Default gateway of the node subnet. */
  gateway: string;
  /** DNS resolvers given through cloud-init. */
  dnsServers: string[];
  /**
   * Extra tags of the control-plane VMs: the running castle's marks (key fingerprint and Talos contract,
   * lib/guard-tags.ts) that the re-keying guard reads back. Default none.
   */
  controlPlaneTags?: string[];
}

/** A VmLegacy disk as the castle sets it; `importFrom` is the download's ID (an Output in the component, a string in tests). */
export interface VmDiskSpec {
  interface: string;
  datastoreId: string;
  importFrom: pulumi.Input<string>;
  fileFormat: string;
  size: number;
  iothread: boolean;
  discard: string;
  ssd: boolean;
}

/** The VmLegacyArgs the castle sets, as plain data. Property names are VmLegacyArgs' own (see `vmSpec`). */
export interface VmSpec {
  nodeName: string;
  vmId: number;
  name: string;
  description: string;
  tags: string[];
  machine: string;
  bios: string;
  efiDisk: { datastoreId: string; fileFormat: string; type: string; preEnrolledKeys: boolean };
  scsiHardware: string;
  disks: VmDiskSpec[];
  bootOrders: string[];
  agent: { enabled: boolean; timeout: string; waitForIp: { disabled: boolean } };
  cpu: { cores: number; sockets: number; type: string };
  memory: { dedicated: number; floating: number };
  operatingSystem: { type: string };
  networkDevices: { bridge: string; model: string; vlanId?: number }[];
  initialization: {
    datastoreId: string;
    interface: string;
    ipConfigs: { ipv4: { address: string; gateway: string } }[];
    dns: { servers: string[] };
  };
  onBoot: boolean;
  started: boolean;
  stopOnDestroy: boolean;
  rebootAfterUpdate: boolean;
}

/** The interface of the system disk; Talos installs to it (`/dev/sda` on virtio-scsi). */
const SYSTEM_DISK_INTERFACE = "scsi0";

/**
 * The VM of one castle node. Choices, with the provider pitfalls they answer:
 * - q35 + OVMF with a 4m EFI disk from day one: changing `efiDisk.type` later replaces the VM. No
 *   pre-enrolled keys: the image is not a SecureBoot image.
 * - System disk imported with `importFrom` (no SSH, not ForceNew), virtio-scsi-single with iothread, discard
 *   and SSD emulation so Talos' trims reach thin storage.
 * - Guest agent on (the schematic always carries it) but never waited on for IPs: the address is static,
 *   given through cloud-init, and Talos runs the agent late or not at all in maintenance mode, which would
 *   hang create and refresh for the agent timeout (15 minutes by default). The short timeout bounds any
 *   other agent call.
 * - Dedicated memory, no ballooning (`floating: 0`): Talos does not support memory hotplug.
 * - `stopOnDestroy`: destroy stops the VM instead of waiting for a guest shutdown that may never come.
 * - `rebootAfterUpdate: false`: the provider never reboots a VM to apply a change (CPU, memory, ...). The
 *   VMs update in parallel, so a reboot would take every control plane down at once; a change that needs
 *   one fails or is left pending with a warning, and the operator rolls the reboots one node at a time
 *   (docs/runbooks.md, "Rolling reboots").
 * - Cloud-init: only `ipConfigs` and `dns` (both update in place); no `*FileId` and no `type` (ForceNew).
 *   PVE's default cloud-init format for an `l26` VM is nocloud, which Talos reads.
 */
export function vmSpec(node: CastleNode, env: VmEnvironment, importFrom: pulumi.Input<string>): VmSpec {
  const { prefix } = subnetOf(env.cidr);
  const roleText = node.role === "controlPlane" ? "control-plane" : "worker";
  return {
    nodeName: node.proxmoxNode,
    vmId: node.vmId,
    name: node.hostname,
    description: `Talos ${roleText} node ${node.hostname} of castle cluster ${env.clusterName}, ${node.ip}. Managed by Pulumi: changes made in Proxmox are overwritten or lost when the cluster is recreated.`,
    tags: vmTags(env.clusterName, node.role, node.role === "controlPlane" ? (env.controlPlaneTags ?? []) : []),
    machine: "q35",
    bios: "ovmf",
    efiDisk: { datastoreId: env.vmDatastore, fileFormat: "raw", type: "4m", preEnrolledKeys: false },
    scsiHardware: "virtio-scsi-single",
    disks: [
      {
        interface: SYSTEM_DISK_INTERFACE,
        datastoreId: env.vmDatastore,
        importFrom,
        fileFormat: "raw",
        size: node.diskGiB,
        iothread: true,
        discard: "on",
        ssd: true,
      },
    ],
    bootOrders: [SYSTEM_DISK_INTERFACE],
    agent: { enabled: true, timeout: "1m", waitForIp: { disabled: true } },
    cpu: { cores: node.cores, sockets: 1, type: env.cpuType },
    memory: { dedicated: node.memoryMiB, floating: 0 },
    operatingSystem: { type: "l26" },
    networkDevices: [
      { bridge: env.bridge, model: "virtio", ...(env.vlanId !== undefined ? { vlanId: env.vlanId } : {}) },
    ],
    initialization: {
      datastoreId: env.vmDatastore,
      interface: "ide2",
      ipConfigs: [{ ipv4: { address: `${node.ip}/${prefix}`, gateway: env.gateway } }],
      dns: { servers: [...env.dnsServers] },
    },
    onBoot: true,
    started: true,
    stopOnDestroy: true,
    rebootAfterUpdate: false,
    // `satisfies` checks every property name, nested ones included, against the provider's typings.
  } satisfies proxmox.VmLegacyArgs;
}

/**
 * Property paths of VmLegacy whose changes Pulumi ignores, each answering a known drift trap:
 * - `disks[0].importFrom`: only read when the disk is created. A new schematic or Talos version gives a
 *   new image ID; without this every VM would show an update (and a Talos image bump must not touch
 *   running nodes: the castle upgrades by recreating a color, or with `talosctl upgrade`).
 * - `disks[0].speed`: the provider reports a perpetual diff on the disk's speed block
 *   (muhlba91/pulumi-proxmoxve#664).
 * - `nodeName`: a VM moved by PVE HA or by hand would otherwise be planned for replacement
 *   (bpg/terraform-provider-proxmox#2081), destroying an etcd member. To really move a node, give it a
 *   new VM (new hostname and vmId) and remove the old one.
 */
export const VM_IGNORE_CHANGES: readonly string[] = ["nodeName", "disks[0].importFrom", "disks[0].speed"];
