/**
 * Pure planning for the castle's Proxmox VMs: the Image Factory schematic, where the Talos disk image is
 * downloaded and under which name, the VmLegacy arguments of each node, and the checks the ProxmoxNodes
 * component runs on its arguments. Plain data in, plain data out: everything here is table-tested
 * without Pulumi mocks.
 *
 * Provider facts (property names, content types, file-name rules, drift traps) are those of
 * `@muhlba91/pulumi-proxmoxve` 8.6.0 (upstream bpg/terraform-provider-proxmox v0.112+), checked against its
 * `.d.ts` files with `tsc`; the Image Factory path rules are those of siderolabs/image-factory
 * `internal/profile/profile.go` (`ParseFromPath`).
 */
import type * as proxmox from "@muhlba91/pulumi-proxmoxve";
import type * as pulumi from "@pulumi/pulumi";
import { subnetOf } from "./net";

/** The extension every castle image carries: Proxmox talks to the node through it (shutdown, fstrim). */
export const QEMU_GUEST_AGENT_EXTENSION = "siderolabs/qemu-guest-agent";

/** An official Image Factory system extension name, e.g. `siderolabs/iscsi-tools`. */
const EXTENSION_NAME = /^siderolabs\/[a-z0-9-]+$/;

/**
 * The Image Factory schematic YAML for the castle's image: `siderolabs/qemu-guest-agent` plus `extensions`,
 * sorted and de-duplicated, so the same set always gives the same text and therefore the same schematic ID
 * (the ID is derived from the content).
 */
export function schematicYaml(extensions: string[]): string {
  const bad = extensions.filter((e) => !EXTENSION_NAME.test(e));
  if (bad.length > 0) {
    throw new Error(
      `schematic: ${bad.map((e) => JSON.stringify(e)).join(", ")} ${bad.length === 1 ? "is not an" : "are not"} official extension name${bad.length === 1 ? "" : "s"}: expected siderolabs/<name> such as siderolabs/iscsi-tools`,
    );
  }
  const all = [...new Set([QEMU_GUEST_AGENT_EXTENSION, ...extensions])].sort();
  return [
    "customization:",
    "  systemExtensions:",
    "    officialExtensions:",
    ...all.map((e) => `      - ${e}`),
    "",
  ].join("\n");
}

export type CastleRole = "controlPlane" | "worker";
export type TalosArchitecture = "amd64" | "arm64";

/** One castle node as ProxmoxNodes receives it. */
export interface CastleVm {
  /** Hostname of the Talos node, also the VM name (a DNS label, unique). */
  hostname: string;
  /** Static IPv4 address inside the node subnet. */
  ip: string;
  /** Proxmox VM ID, unique. */
  vmId: number;
  /** The Proxmox node that hosts the VM. */
  proxmoxNode: string;
  /** Virtual CPU cores. */
  cores: number;
  /** Dedicated memory in MiB. */
  memoryMiB: number;
  /** System disk size in GiB. */
  diskGiB: number;
  /** Kubernetes role of the node. */
  role: CastleRole;
}

/**
 * Where the Talos image goes. The disk is imported with `importFrom`, which needs an uncompressed image of
 * content type `import` (PVE cannot decompress into `import`, and cannot decompress xz at all), and which,
 * unlike `fileId`, needs no SSH access to the Proxmox nodes and is not ForceNew.
 */
export const IMAGE_CONTENT_TYPE = "import";

/** Characters PVE accepts in a storage file name, and the extensions it accepts for `import` content. */
const IMPORT_FILE_NAME = /^[A-Za-z0-9._+=-]+\.(qcow2|raw|vmdk|ova|ovf)$/;

export interface ImageNameInput {
  clusterName: string;
  schematicId: string;
  talosVersion: string;
  architecture: TalosArchitecture;
}

/**
 * The image's file name on the datastore:
 * `talos-<cluster>-<first 12 of schematic>-<version>-nocloud-<arch>.qcow2`.
 *
 * - Schematic, version and architecture make a new image a new file, never an overwrite of one a VM came from.
 * - The cluster name keeps blue and green apart on a shared datastore or a shared Proxmox node: each stack
 *   owns its file, so destroying one color never deletes the other color's image.
 * - `.qcow2` because PVE requires a disk-image extension for `import` content (`.img` is only for `iso`).
 */
export function imageFileName(input: ImageNameInput): string {
  if (!/^[A-Za-z0-9._-]{12,}$/.test(input.schematicId)) {
    throw new Error(
      `Talos image: schematic ID ${JSON.stringify(input.schematicId)} is not an Image Factory schematic ID (at least 12 letters or digits)`,
    );
  }
  const name = `talos-${input.clusterName}-${input.schematicId.slice(0, 12)}-${input.talosVersion}-nocloud-${input.architecture}.qcow2`;
  if (!IMPORT_FILE_NAME.test(name)) {
    throw new Error(
      `Talos image: file name ${JSON.stringify(name)} has characters Proxmox does not accept in a file name (letters, digits, . _ - + = only)`,
    );
  }
  return name;
}

/**
 * The URL of the uncompressed nocloud qcow2 image, from the disk image URL Image Factory reports
 * (`…/image/<schematic>/<version>/nocloud-<arch>.raw.xz`). Image Factory serves every disk format and
 * compression of a platform under the same directory (`<platform>-<arch>.<raw|qcow2>[.xz|.gz|.zst]`);
 * the qcow2 is compact (it stores only the blocks in use, not the whole disk), so it is a small download that
 * PVE can import as is.
 */
export function importableImageUrl(diskImageUrl: string, architecture: TalosArchitecture): string {
  let url: URL;
  try {
    url = new URL(diskImageUrl);
  } catch {
    throw new Error(`Talos image: disk image URL ${JSON.stringify(diskImageUrl)} is not an absolute URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new Error(`Talos image: disk image URL ${diskImageUrl} must use https (Proxmox downloads only http(s))`);
  }
  const segments = url.pathname.split("/");
  const last = segments.pop() ?? "";
  const match = /^(.+)\.(raw|qcow2)(\.(xz|gz|zst))?$/.exec(last);
  const expected = `nocloud-${architecture}`;
  if (!match || match[1] !== expected) {
    throw new Error(
      `Talos image: disk image URL ${diskImageUrl} is not the ${expected} disk image (expected a path ending in ${expected}.raw.xz, as Image Factory reports for platform nocloud): the castle's VMs read their network settings from the nocloud cloud-init drive`,
    );
  }
  url.pathname = [...segments, `${expected}.qcow2`].join("/");
  return url.toString();
}

export interface ImagePlanInput {
  /** The Proxmox nodes of the stack, in configuration order. */
  proxmoxNodes: string[];
  /** The Proxmox node of each castle VM. */
  vmNodes: string[];
  /** Whether the image datastore is shared by every Proxmox node. */
  shared: boolean;
}

export interface ImagePlan {
  /** Proxmox nodes that receive a download, in configuration order. */
  downloadNodes: string[];
  /** For each Proxmox node hosting a castle VM: the node whose download its VMs import from. */
  sourceFor: Record<string, string>;
}

/**
 * Which Proxmox nodes get the image. On node-local storage, every node that hosts at least one castle VM
 * gets its own copy (a VM can only import from storage its node sees); nodes without castle VMs get none.
 * On shared storage, one copy, held by the first hosting node in configuration order (stable when VMs are
 * added or reordered).
 */
export function planImages(input: ImagePlanInput): ImagePlan {
  const hosting = new Set(input.vmNodes);
  const unknown = [...hosting].filter((n) => !input.proxmoxNodes.includes(n));
  if (unknown.length > 0) {
    throw new Error(
      `Talos image: VMs are placed on ${unknown.join(", ")}, which ${unknown.length === 1 ? "is" : "are"} not among the Proxmox nodes ${input.proxmoxNodes.join(", ")}`,
    );
  }
  const hostingInOrder = input.proxmoxNodes.filter((n, i) => hosting.has(n) && input.proxmoxNodes.indexOf(n) === i);
  if (hostingInOrder.length === 0) return { downloadNodes: [], sourceFor: {} };
  if (input.shared) {
    const holder = hostingInOrder[0] as string;
    return { downloadNodes: [holder], sourceFor: Object.fromEntries(hostingInOrder.map((n) => [n, holder])) };
  }
  return { downloadNodes: hostingInOrder, sourceFor: Object.fromEntries(hostingInOrder.map((n) => [n, n])) };
}

/** Proxmox tag of each role (PVE tags are lower-case: a mixed-case tag would come back changed). */
export const ROLE_TAGS: Record<CastleRole, string> = { controlPlane: "control-plane", worker: "worker" };

/** The tag every castle VM carries; with the cluster name, it tells the castle's VMs from any other. */
export const CASTLE_TAG = "castle";

/** Sorted, de-duplicated VM tags: Proxmox stores tags sorted, so unsorted tags are a perpetual diff. */
export function vmTags(clusterName: string, role: CastleRole, extra: readonly string[] = []): string[] {
  return [...new Set([CASTLE_TAG, clusterName, ROLE_TAGS[role], ...extra])].sort();
}

/** What every VM of the stack shares. */
export interface VmEnvironment {
  clusterName: string;
  /** Datastore of the system disk, EFI vars and cloud-init drive. */
  vmDatastore: string;
  bridge: string;
  vlanId?: number;
  cpuType: string;
  /** Node subnet, CIDR. */
  cidr: string;
  gateway: string;
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
export const SYSTEM_DISK_INTERFACE = "scsi0";

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
 *   (README, "Rolling reboots").
 * - Cloud-init: only `ipConfigs` and `dns` (both update in place); no `*FileId` and no `type` (ForceNew).
 *   PVE's default cloud-init format for an `l26` VM is nocloud, which Talos reads.
 */
export function vmSpec(node: CastleVm, env: VmEnvironment, importFrom: pulumi.Input<string>): VmSpec {
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
