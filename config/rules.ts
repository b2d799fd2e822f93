/**
 * Topology rules that span several fields of one stack: addresses inside the subnet, no duplicates,
 * an odd number of control planes, nodes on known Proxmox nodes. Pure functions over plain data.
 */
import ipaddr from "ipaddr.js";

export interface RuleIssue {
  /** Path below `castle:`, e.g. `["controlPlanes", 1, "ip"]`. */
  path: (string | number)[];
  message: string;
}

interface NodeLike {
  hostname: string;
  ip: string;
  vmId: number;
  proxmoxNode: string;
}

/**
 * The parts of a stack the rules look at. A part that failed its own validation is `undefined`
 * (a node, the network, the Proxmox node list): the rules that need it are skipped, the rest still run,
 * so one run reports every problem.
 */
export interface TopologyLike {
  network: { cidr: string; gateway: string; vip: string } | undefined;
  proxmoxNodes: string[] | undefined;
  controlPlanes: (NodeLike | undefined)[];
  workers: (NodeLike | undefined)[];
}

/** A dotted-quad IPv4 address (no leading zeros, each part 0-255). */
export function isIPv4(value: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(value);
}

/** An IPv4 CIDR such as `10.20.0.0/24`. */
export function isIPv4Cidr(value: string): boolean {
  const [address, prefix, extra] = value.split("/");
  return extra === undefined && isIPv4(address ?? "") && /^(\d|[12]\d|3[0-2])$/.test(prefix ?? "");
}

/** The subnet of a CIDR: its network and broadcast addresses and a membership test. */
export interface Subnet {
  network: string;
  broadcast: string;
  prefix: number;
  contains(ip: string): boolean;
}

export function subnetOf(cidr: string): Subnet {
  const [address, prefix] = ipaddr.IPv4.parseCIDR(cidr);
  const network = ipaddr.IPv4.networkAddressFromCIDR(cidr).toString();
  const broadcast = ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString();
  return {
    network,
    broadcast,
    prefix,
    contains: (ip: string) => isIPv4(ip) && ipaddr.IPv4.parse(ip).match(address, prefix),
  };
}

/** Control planes first, then workers, each with its role and its path in the stack config. */
export function nodesWithPaths<N extends NodeLike>(config: {
  controlPlanes: (N | undefined)[];
  workers: (N | undefined)[];
}): { node: N; role: "controlPlane" | "worker"; path: [string, number] }[] {
  const entries = (nodes: (N | undefined)[], role: "controlPlane" | "worker", key: string) =>
    nodes.flatMap((node, i) => (node ? [{ node, role, path: [key, i] as [string, number] }] : []));
  return [
    ...entries(config.controlPlanes, "controlPlane", "controlPlanes"),
    ...entries(config.workers, "worker", "workers"),
  ];
}

export function topologyIssues(config: TopologyLike): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const { network } = config;
  const subnet = network ? subnetOf(network.cidr) : undefined;
  const cidrDesc =
    network && subnet ? `${network.cidr} (network ${subnet.network}, broadcast ${subnet.broadcast})` : "";
  const isUsable = (ip: string) =>
    subnet === undefined || (subnet.contains(ip) && ip !== subnet.network && ip !== subnet.broadcast);

  if (network && subnet) {
    if (subnet.prefix > 29) {
      issues.push({
        path: ["network", "cidr"],
        message: `${network.cidr} is too small: use a prefix of /29 or shorter`,
      });
    }
    if (!isUsable(network.gateway)) {
      issues.push({
        path: ["network", "gateway"],
        message: `${network.gateway} must be a usable address inside ${cidrDesc}`,
      });
    }
    if (!isUsable(network.vip)) {
      issues.push({ path: ["network", "vip"], message: `${network.vip} must be a usable address inside ${cidrDesc}` });
    } else if (network.vip === network.gateway) {
      issues.push({
        path: ["network", "vip"],
        message: `${network.vip} is the gateway; the VIP needs an unused address`,
      });
    }
  }

  const count = config.controlPlanes.length;
  if (count > 0 && count % 2 === 0) {
    issues.push({
      path: ["controlPlanes"],
      message: `${count} control planes: etcd needs an odd number (1, 3, 5...) to keep quorum`,
    });
  }

  const seen = { ip: new Map<string, string>(), hostname: new Map<string, string>(), vmId: new Map<number, string>() };
  for (const { node, path } of nodesWithPaths(config)) {
    const where = `${path[0]}[${path[1]}]`;
    if (!isUsable(node.ip)) {
      issues.push({ path: [...path, "ip"], message: `${node.ip} must be a usable address inside ${cidrDesc}` });
    } else if (node.ip === network?.gateway) {
      issues.push({ path: [...path, "ip"], message: `${node.ip} is the gateway address (castle:network.gateway)` });
    }
    if (node.ip === network?.vip) {
      issues.push({
        path: [...path, "ip"],
        message: `${node.ip} is also the VIP (castle:network.vip); the VIP must be an address no node has`,
      });
    }
    for (const [field, value] of [
      ["ip", node.ip],
      ["hostname", node.hostname],
      ["vmId", node.vmId],
    ] as const) {
      const map = seen[field] as Map<string | number, string>;
      const first = map.get(value);
      if (first !== undefined) {
        issues.push({
          path: [...path, field],
          message: `${value} is already used by ${first}; each node needs its own ${field}`,
        });
      } else {
        map.set(value, where);
      }
    }
    if (config.proxmoxNodes && !config.proxmoxNodes.includes(node.proxmoxNode)) {
      issues.push({
        path: [...path, "proxmoxNode"],
        message: `${node.proxmoxNode} is not one of castle:proxmox.nodes (${config.proxmoxNodes.join(", ")})`,
      });
    }
  }
  return issues;
}

/** Storage every Proxmox node has for itself: never shared between nodes, whatever the stack says. */
export const NODE_LOCAL_DATASTORES = ["local", "local-lvm", "local-zfs", "local-btrfs"];

/** The parts of the stack the settings rules look at; `undefined` when invalid on their own. */
export interface SettingsLike {
  proxmox: { imageDatastore: string; imageDatastoreShared: boolean } | undefined;
  eso:
    | {
        allowedNamespaces: string[];
        externalSecrets: { name: string; namespace: string }[];
        secretsPath: string;
      }
    | undefined;
  infisical: { secretPath: string } | undefined;
}

/** Whether Infisical folder `outer` is `inner` or one of its ancestors (both absolute, no trailing slash). */
export function folderContains(outer: string, inner: string): boolean {
  return outer === inner || outer === "/" || inner.startsWith(`${outer}/`);
}

/** Rules between settings that are not about addresses: shared storage, ESO namespaces. */
export function settingsIssues(config: SettingsLike): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const { proxmox, eso, infisical } = config;
  if (proxmox?.imageDatastoreShared && NODE_LOCAL_DATASTORES.includes(proxmox.imageDatastore)) {
    issues.push({
      path: ["proxmox", "imageDatastoreShared"],
      message: `true, but ${proxmox.imageDatastore} (castle:proxmox.imageDatastore) is storage of each node of its own: the image would land on one Proxmox node only. Use a shared datastore (NFS, CephFS...) or set false`,
    });
  }
  if (eso && infisical && folderContains(eso.secretsPath, infisical.secretPath)) {
    const how =
      eso.secretsPath === infisical.secretPath ? "is the castle's own folder" : "contains the castle's own folder";
    issues.push({
      path: ["eso", "secretsPath"],
      message: `${eso.secretsPath} ${how} (castle:infisical.secretPath ${infisical.secretPath}), which holds the secretbox key, the Proxmox token and ESO's own credentials. The cluster's identity must not be able to read it: give the cluster a folder of its own outside it, e.g. /apps/<color>, and allow the cluster's identity that folder only`,
    });
  }
  eso?.externalSecrets.forEach((externalSecret, i) => {
    if (!eso.allowedNamespaces.includes(externalSecret.namespace)) {
      issues.push({
        path: ["eso", "externalSecrets", i, "namespace"],
        message: `${externalSecret.namespace} may not use the store: ExternalSecret ${externalSecret.name} must be in one of castle:eso.allowedNamespaces (${eso.allowedNamespaces.join(", ")})`,
      });
    }
  });
  return issues;
}
