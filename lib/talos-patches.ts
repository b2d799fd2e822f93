/**
 * Talos machine-config patches, rendered as YAML strings for `configPatches` of
 * `talos.machine.getConfigurationOutput`. Plain functions: data in, YAML out, no Pulumi.
 *
 * Written for Talos v1.13 (the config schema at siderolabs/talos v1.13.9): networking uses the
 * config documents that replace `machine.network` (deprecated in v1.12, absent from the v1.13
 * schema): `HostnameConfig`, `LinkAliasConfig`, `LinkConfig`, `ResolverConfig`, `Layer2VIPConfig`.
 * Cluster name, endpoint, Kubernetes version and the version contract are arguments of
 * getConfiguration, not patches.
 */
import * as ipaddr from "ipaddr.js";
import { stringify } from "yaml";
import type { NodeRole } from "./nodes";
import { TALOS_CONTRACT, TALOS_RELEASE } from "./talos-version";

/**
 * Name the castle gives the node's NIC, through a `LinkAliasConfig`. The link, the VIP and the
 * address documents refer to this alias, never to a kernel name.
 */
export const NODE_LINK_ALIAS = "net0";

/**
 * CEL selector of the node's NIC. Each castle VM has exactly one NIC, a virtio-net device, so the
 * driver picks it, and nothing per node is needed. Why not the kernel name: the predictable name
 * (`ens18`, `enp6s18`, ...) depends on the PCI slot Proxmox assigns for the machine type, and
 * `eth0` only exists with `net.ifnames=0`. Why not the MAC: it would tie the patch to the VM
 * resource's generated address. An alias applies only when the selector matches exactly one link,
 * so a second virtio NIC would make the alias (and with it the static address) not apply: a loud
 * failure rather than an address on the wrong NIC.
 */
export const NODE_LINK_SELECTOR = 'link.driver == "virtio_net"';

/** The Talos platform of the castle's VMs: Proxmox boots the `nocloud` image. */
const TALOS_PLATFORM = "nocloud";

/** One node, as its patches need it. */
export interface NodePatchInput {
  /** Hostname (a DNS label). */
  hostname: string;
  /** Static IPv4 address, inside `network.cidr`. */
  ip: string;
  /** Control plane or worker; only control planes carry the VIP. */
  role: NodeRole;
}

/** The node network, shared by every node of the cluster. */
export interface NetworkPatchInput {
  /** Node subnet, e.g. `10.10.20.0/24` (its prefix length is the nodes' prefix length). */
  cidr: string;
  /** Default gateway. */
  gateway: string;
  /** DNS resolvers, in order. */
  dns: string[];
  /** Shared Kubernetes API address (Layer 2 VIP) announced by one control plane at a time. */
  vip: string;
}

/** Everything the per-node patch list needs. */
export interface ClusterPatchInput {
  /** Install disk as the VM presents it, e.g. `/dev/sda`. */
  installDisk: string;
  /** Installer image, e.g. from {@link factoryInstallerImage}. */
  installerImage: string;
  /** Node network. */
  network: NetworkPatchInput;
  /** Control planes run workloads too (no control-plane taint). Default false. */
  allowSchedulingOnControlPlanes?: boolean;
}

/** Arguments of {@link factoryInstallerImage}. */
export interface FactoryInstallerArgs {
  /** Image Factory host or URL, e.g. `factory.talos.dev` or `https://factory.talos.dev`. */
  factory: string;
  /** Schematic ID (64 hex characters), e.g. the `id` of `talos.imageFactory.Schematic`. */
  schematicId: string;
  /** Talos release, e.g. `v1.13.9`. */
  talosVersion: string;
  /** Talos platform; default `nocloud`. */
  platform?: string;
}

function toYaml(doc: object): string {
  // YAML 1.1 output quotes strings a YAML 1.1 reader would take for booleans (`off`, `yes`).
  return stringify(doc, { version: "1.1", lineWidth: 0 });
}

/**
 * The Image Factory installer image of a schematic: `<host>/<platform>-installer/<id>:<version>`.
 * Installing from it keeps the schematic's system extensions (the QEMU guest agent) on disk and
 * across upgrades; the default `ghcr.io/siderolabs/installer` image would drop them.
 */
export function factoryInstallerImage(args: FactoryInstallerArgs): string {
  const platform = args.platform ?? TALOS_PLATFORM;
  let host = args.factory.trim();
  if (host.includes("://")) {
    host = new URL(host).host;
  }
  host = host.replace(/\/+$/, "");
  if (!/^[a-z0-9.-]+(:\d+)?$/i.test(host)) {
    throw new Error(`Image Factory "${args.factory}" is not a host name or URL such as https://factory.talos.dev`);
  }
  if (!/^[0-9a-f]{64}$/.test(args.schematicId)) {
    throw new Error(`schematic ID "${args.schematicId}" must be 64 lower-case hex characters`);
  }
  if (!TALOS_RELEASE.test(args.talosVersion)) {
    throw new Error(
      `Talos version "${args.talosVersion}" must be a Talos ${TALOS_CONTRACT} release such as ${TALOS_CONTRACT}.9 (with the leading 'v')`,
    );
  }
  if (!/^[a-z0-9-]+$/.test(platform)) {
    throw new Error(`Talos platform "${platform}" must be a platform name such as nocloud or metal`);
  }
  return `${host}/${platform}-installer/${args.schematicId}:${args.talosVersion}`;
}

/** `machine.install`: the disk to install to and the installer image (a v1alpha1 strategic-merge patch). */
export function renderInstallPatch(args: { disk: string; image: string }): string {
  return toYaml({ machine: { install: { disk: args.disk, image: args.image } } });
}

/**
 * The static hostname. `auto: "off"` is required: the generated v1.13 config already carries a
 * `HostnameConfig` with `auto: stable`, this patch merges into it, and Talos refuses a document
 * with both `hostname` and an `auto` other than `off`.
 */
export function renderHostnamePatch(hostname: string): string {
  return toYaml({ apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "off", hostname });
}

/** Prefix length of an IPv4 CIDR, checked. */
function prefixLength(cidr: string): number {
  const [, bits] = ipaddr.IPv4.parseCIDR(cidr);
  return bits;
}

/**
 * The node's NIC and its static address: a `LinkAliasConfig` naming the one virtio NIC
 * {@link NODE_LINK_ALIAS}, and a `LinkConfig` for that alias with the address and the default route.
 */
export function renderLinkPatch(args: { ip: string; cidr: string; gateway: string }): string {
  const alias = {
    apiVersion: "v1alpha1",
    kind: "LinkAliasConfig",
    name: NODE_LINK_ALIAS,
    selector: { match: NODE_LINK_SELECTOR },
  };
  const link = {
    apiVersion: "v1alpha1",
    kind: "LinkConfig",
    name: NODE_LINK_ALIAS,
    up: true,
    addresses: [{ address: `${args.ip}/${prefixLength(args.cidr)}` }],
    routes: [{ gateway: args.gateway }],
  };
  return [toYaml(alias), toYaml(link)].join("---\n");
}

/** DNS resolvers (`ResolverConfig`), in order. */
export function renderResolverPatch(dns: string[]): string {
  return toYaml({
    apiVersion: "v1alpha1",
    kind: "ResolverConfig",
    nameservers: dns.map((address) => ({ address })),
  });
}

/**
 * The Kubernetes API VIP (`Layer2VIPConfig`) on the aliased NIC. Control planes only: the VIP is
 * held by the etcd election winner, so it comes up after bootstrap and is never a Talos API endpoint.
 */
export function renderVipPatch(vip: string): string {
  return toYaml({ apiVersion: "v1alpha1", kind: "Layer2VIPConfig", name: vip, link: NODE_LINK_ALIAS });
}

/**
 * `cluster.allowSchedulingOnControlPlanes: true` (a v1alpha1 patch): Talos then leaves the control plane
 * untainted, so workloads run on it (Talos v1.13 config.schema.json, `ClusterConfig`).
 */
export function renderSchedulingPatch(): string {
  return toYaml({ cluster: { allowSchedulingOnControlPlanes: true } });
}

/**
 * Every castle patch of one node, in order: install, hostname, NIC and address, resolvers, and
 * on control planes the VIP and, when they run workloads, the scheduling patch. Cluster-wide extras
 * (such as the secretbox patch) are added by the caller.
 */
export function renderNodePatches(node: NodePatchInput, cluster: ClusterPatchInput): string[] {
  const patches = [
    renderInstallPatch({ disk: cluster.installDisk, image: cluster.installerImage }),
    renderHostnamePatch(node.hostname),
    renderLinkPatch({ ip: node.ip, cidr: cluster.network.cidr, gateway: cluster.network.gateway }),
    renderResolverPatch(cluster.network.dns),
  ];
  if (node.role === "controlPlane") patches.push(renderVipPatch(cluster.network.vip));
  if (node.role === "controlPlane" && cluster.allowSchedulingOnControlPlanes) patches.push(renderSchedulingPatch());
  return patches;
}
