/**
 * Topology rules that span several fields of one stack: addresses inside the subnet, no duplicates,
 * an odd number of control planes, nodes on known Proxmox nodes. Pure functions over plain data.
 */
import { subnetOf } from "../lib/net";
import type { NodeRole } from "../lib/nodes";
import { urlCarriesCredentials } from "./pasted-secrets";

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
  /** `castle:talos.allowSchedulingOnControlPlanes` as written (undefined: not set, or not valid). */
  allowSchedulingOnControlPlanes?: boolean;
}

/** Control planes first, then workers, each with its role and its path in the stack config. */
export function nodesWithPaths<N extends NodeLike>(config: {
  controlPlanes: (N | undefined)[];
  workers: (N | undefined)[];
}): { node: N; role: NodeRole; path: [string, number] }[] {
  const entries = (nodes: (N | undefined)[], role: NodeRole, key: string) =>
    nodes.flatMap((node, i) => (node ? [{ node, role, path: [key, i] as [string, number] }] : []));
  return [
    ...entries(config.controlPlanes, "controlPlane", "controlPlanes"),
    ...entries(config.workers, "worker", "workers"),
  ];
}

export function topologyIssues(config: TopologyLike): RuleIssue[] {
  const issues: RuleIssue[] = [];
  if (config.allowSchedulingOnControlPlanes === false && config.workers.length === 0) {
    issues.push({
      path: ["talos", "allowSchedulingOnControlPlanes"],
      message:
        "is false, but the stack lists no workers: nothing could run the cluster's own pods (ESO, Flux), and pulumi up would time out on the ESO release. Add workers, or remove the key (control planes of a castle without workers run workloads)",
    });
  }
  const { network } = config;
  const subnet = network ? subnetOf(network.cidr) : undefined;
  const cidrDesc =
    network && subnet ? `${network.cidr} (network ${subnet.network}, broadcast ${subnet.broadcast})` : "";
  const isUsable = (ip: string) =>
    subnet === undefined || (subnet.contains(ip) && ip !== subnet.network && ip !== subnet.broadcast);

  if (network && subnet) {
    const address = network.cidr.split("/")[0];
    if (address !== subnet.network) {
      issues.push({
        path: ["network", "cidr"],
        message: `${network.cidr} has host bits set: the subnet is ${subnet.network}/${subnet.prefix}; write that`,
      });
    }
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

  config.proxmoxNodes?.forEach((name, i) => {
    const first = config.proxmoxNodes?.indexOf(name) ?? i;
    if (first !== i) {
      issues.push({
        path: ["proxmox", "nodes", i],
        message: `${name} is listed twice (also castle:proxmox.nodes[${first}])`,
      });
    }
  });

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
const NODE_LOCAL_DATASTORES = ["local", "local-lvm", "local-zfs", "local-btrfs"];

/** The parts of the stack the settings rules look at; `undefined` when invalid on their own. */
export interface SettingsLike {
  proxmox: { imageDatastore: string; imageDatastoreShared: boolean } | undefined;
  eso:
    | {
        allowedNamespaces: string[];
        externalSecrets: { name: string; namespace: string; targetSecret?: string }[];
        secretsPath: string;
      }
    | undefined;
  infisical: { secretPath: string } | undefined;
}

/** Whether Infisical folder `outer` is `inner` or one of its ancestors (both absolute, no trailing slash). */
export function folderContains(outer: string, inner: string): boolean {
  return outer === inner || outer === "/" || inner.startsWith(`${outer}/`);
}

/**
 * How a folder stands to another (a cluster's folder to a castle's, a Git credential's folder to any
 * other): it `is` it, `contains` it or lies `inside` it, or undefined when they are apart. Any of the three
 * puts the other folder's secrets within reach (a role scoped to the folder, a glob below it, a recursive
 * read).
 */
export function folderOverlap(folder: string, other: string): "is" | "contains" | "inside" | undefined {
  if (folder === other) return "is";
  if (folderContains(folder, other)) return "contains";
  if (folderContains(other, folder)) return "inside";
  return undefined;
}

/** "is", "contains", "lies inside", for a message. */
export function overlapWords(overlap: "is" | "contains" | "inside"): string {
  return overlap === "inside" ? "lies inside" : overlap;
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
  const overlap = eso && infisical ? folderOverlap(eso.secretsPath, infisical.secretPath) : undefined;
  if (eso && infisical && overlap) {
    const how = `${overlapWords(overlap)} the castle's own folder`;
    issues.push({
      path: ["eso", "secretsPath"],
      message: `${eso.secretsPath} ${how} (castle:infisical.secretPath ${infisical.secretPath}), which holds the secretbox key, the Proxmox token and ESO's own credentials. The cluster's identity must not be able to read it: give the cluster a folder of its own outside it, e.g. /apps/<color>, and allow the cluster's identity that folder only`,
    });
  }
  const objects = new Map<string, number>();
  const targets = new Map<string, number>();
  eso?.externalSecrets.forEach((externalSecret, i) => {
    if (!eso.allowedNamespaces.includes(externalSecret.namespace)) {
      issues.push({
        path: ["eso", "externalSecrets", i, "namespace"],
        message: `${externalSecret.namespace} may not use the store: ExternalSecret ${externalSecret.name} must be in one of castle:eso.allowedNamespaces (${eso.allowedNamespaces.join(", ")})`,
      });
    }
    // Kubernetes names an object by namespace and name: a second one would be the same object.
    const object = `${externalSecret.namespace}/${externalSecret.name}`;
    const sameObject = objects.get(object);
    if (sameObject !== undefined) {
      issues.push({
        path: ["eso", "externalSecrets", i, "name"],
        message: `${object} is also castle:eso.externalSecrets[${sameObject}]: each ExternalSecret needs its own name in its namespace`,
      });
    } else objects.set(object, i);
    // Two ExternalSecrets owning one Secret would overwrite each other on every refresh.
    const target = `${externalSecret.namespace}/${externalSecret.targetSecret ?? externalSecret.name}`;
    const sameTarget = targets.get(target);
    if (sameTarget !== undefined && sameObject === undefined) {
      issues.push({
        path: ["eso", "externalSecrets", i, "targetSecret"],
        message: `Secret ${target} is also written by castle:eso.externalSecrets[${sameTarget}]: two ExternalSecrets would overwrite each other; give each its own targetSecret`,
      });
    } else if (sameTarget === undefined) targets.set(target, i);
  });
  return issues;
}

// ---- GitOps (Flux) -------------------------------------------------------------------------------

/** The parts of `castle:gitops` the rules look at (already valid on their own). */
export interface GitOpsLike {
  url: string;
  ref: string;
  path?: string;
  credentials?: { token?: string; sshIdentity?: string; sshKnownHosts?: string; caCert?: string };
  secretsPath?: string;
  operatorChartVersion?: string;
  fluxVersion?: string;
}

/**
 * Flux distributions the operator carries in its image (it builds Flux from these, with no
 * `distribution.artifact`), per operator chart version: operator v0.58.1 has v2.2.3 ... v2.9.4.
 */
const FLUX_VERSIONS_OF_OPERATOR: Readonly<Record<string, { min: string; max: string }>> = {
  "0.58.1": { min: "2.2.3", max: "2.9.4" },
};

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Why `ref` is not a reference FluxInstance can check out, or undefined when it is one. FluxInstance
 * hands `sync.ref` to the GitRepository's `ref.name`, which must be a full Git reference
 * (git-check-ref-format): `refs/heads/<branch>`, `refs/tags/<tag>`, `refs/pull/<n>/head`...
 */
function gitRefProblem(ref: string): string | undefined {
  if (/^[0-9a-f]{40}$/.test(ref) || /^[0-9a-f]{64}$/.test(ref)) {
    return "is a commit: FluxInstance checks out a reference (ref.name), not a commit; tag the commit and use refs/tags/<tag>";
  }
  if (!ref.startsWith("refs/")) {
    return `must be a full Git reference such as refs/heads/${ref.replace(/^\/+/, "") || "main"} (branch) or refs/tags/v1.0.0 (tag): FluxInstance passes it to the GitRepository's ref.name`;
  }
  const components = ref.split("/");
  // git check-ref-format rules.
  if (
    components.length < 3 ||
    components.some((c) => c === "" || c.startsWith(".") || c.endsWith(".lock")) ||
    ref.includes("..") ||
    ref.includes("@{") ||
    ref.endsWith(".") ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what git refuses.
    /[\x00-\x20\x7f~^:?*[\\]/.test(ref)
  ) {
    return "is not a valid Git reference (git check-ref-format): refs/<kind>/<name> without spaces, '..', '~', '^', ':', '?', '*', '[', '\\', '@{', empty parts or parts starting with '.'";
  }
  return undefined;
}

/** Why `path` is not a directory Flux can apply, or undefined when it is fine. */
function gitPathProblem(path: string): string | undefined {
  if (path.startsWith("/")) return "must be relative to the repository root, such as clusters/blue (no leading '/')";
  if (path.includes("\\")) return "must use '/' between directories";
  if (path.split("/").includes("..")) return "must stay inside the repository: no '..'";
  if (!/^[A-Za-z0-9._/-]+$/.test(path)) {
    return "must be a directory path of letters, digits, '.', '_', '-' and '/', such as clusters/blue";
  }
  return undefined;
}

/** The stack's other Infisical folders, as the GitOps folder rule sees them; `undefined` when invalid. */
export interface StackFolders {
  /** `castle:infisical.secretPath`. */
  castle?: string;
  /** `castle:eso.secretsPath`. */
  cluster?: string;
}

/**
 * The Git credential's folder against the stack's other folders: apart from both, since an identity
 * that reads a folder may be granted its subfolders (a `/**` glob) and the castle's identity reads its
 * own folder whole.
 */
function gitopsFolderIssues(secretsPath: string, folders: StackFolders): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const others = [
    ["castle:infisical.secretPath", folders.castle, "the castle's own folder (secretbox key, Proxmox token)"],
    [
      "castle:eso.secretsPath",
      folders.cluster,
      "the cluster's folder, readable from every namespace the ClusterSecretStore allows",
    ],
  ] as const;
  for (const [key, folder, what] of others) {
    const overlap = folder === undefined ? undefined : folderOverlap(secretsPath, folder);
    if (overlap) {
      issues.push({
        path: ["gitops", "secretsPath"],
        message: `${secretsPath} ${overlapWords(overlap)} ${folder} (${key}), ${what}. The Git credential needs a folder of its own that no other identity reads, e.g. /gitops/<color>`,
      });
    }
  }
  return issues;
}

/**
 * Rules of `castle:gitops` that Flux would otherwise report only after the castle is up: the URL
 * scheme (https or ssh, no scp-like form, no credentials in the URL), the reference and path forms,
 * credentials that fit the scheme (a token, optionally a CA, for https; an SSH identity with known_hosts
 * for ssh), and the Git credential's own folder, apart from the stack's other folders.
 */
export function gitopsIssues(gitops: GitOpsLike | undefined, folders: StackFolders = {}): RuleIssue[] {
  if (!gitops) return [];
  const issues: RuleIssue[] = [];
  const { url, ref, path, credentials } = gitops;
  // Messages quote the URL without what it must not carry (reported once, by the pasted-secret rule).
  const shown = urlCarriesCredentials(url) ? url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1***@") : url;
  let scheme: "https" | "ssh" | undefined;
  if (/^[^/:@]+@[^/:]+:/.test(url) && !url.includes("://")) {
    issues.push({
      path: ["gitops", "url"],
      message: `${url} is the scp-like form, which Flux refuses: write ssh://${url.replace(":", "/")}`,
    });
  } else {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      issues.push({
        path: ["gitops", "url"],
        message: `${shown} is not a URL: use https://host/org/repo.git or ssh://git@host/org/repo.git`,
      });
    }
    if (parsed) {
      if (parsed.protocol === "https:") scheme = "https";
      else if (parsed.protocol === "ssh:") scheme = "ssh";
      else {
        issues.push({
          path: ["gitops", "url"],
          message: `${shown}: the scheme must be https:// or ssh:// (${parsed.protocol.replace(/:$/, "")} is either refused by Flux or sends the repository unprotected)`,
        });
      }
      if (scheme && parsed.hostname === "") {
        issues.push({ path: ["gitops", "url"], message: `${shown} has no host` });
      }
      // Credentials in the URL are refused with every pasted secret (config/pasted-secrets.ts).
    }
  }

  const refProblem = gitRefProblem(ref);
  if (refProblem) issues.push({ path: ["gitops", "ref"], message: `${ref} ${refProblem}` });
  if (path !== undefined) {
    const pathProblem = gitPathProblem(path);
    if (pathProblem) issues.push({ path: ["gitops", "path"], message: `${path} ${pathProblem}` });
  }

  const token = credentials?.token;
  const identity = credentials?.sshIdentity;
  const knownHosts = credentials?.sshKnownHosts;
  const caCert = credentials?.caCert;
  if (credentials && !token && !identity && !knownHosts && !caCert) {
    issues.push({
      path: ["gitops", "credentials"],
      message:
        "is empty: set token (https) or sshIdentity and sshKnownHosts (ssh), caCert for a private CA, or remove credentials for a public repository",
    });
  }
  if (caCert && (identity || knownHosts || scheme === "ssh")) {
    issues.push({
      path: ["gitops", "credentials", "caCert"],
      message:
        "is for https only: over SSH the server is trusted through known_hosts (sshKnownHosts), and Flux reads no ca.crt",
    });
  }
  if (credentials && gitops.secretsPath === undefined) {
    issues.push({
      path: ["gitops", "secretsPath"],
      message:
        "is required with castle:gitops.credentials: the Infisical folder of the Git credential alone, e.g. /gitops/<color>, read by an identity of its own",
    });
  }
  if (gitops.secretsPath !== undefined) issues.push(...gitopsFolderIssues(gitops.secretsPath, folders));
  if (token && (identity || knownHosts)) {
    issues.push({
      path: ["gitops", "credentials"],
      message:
        "sets both a token and SSH keys: use token with an https:// URL, or sshIdentity and sshKnownHosts with ssh://",
    });
  }
  if (identity && !knownHosts) {
    issues.push({
      path: ["gitops", "credentials", "sshKnownHosts"],
      message:
        "is required with sshIdentity: Flux refuses SSH without known_hosts ('known_hosts' is required); store the host's lines (ssh-keyscan) in Infisical and name the key here",
    });
  }
  if (knownHosts && !identity) {
    issues.push({
      path: ["gitops", "credentials", "sshIdentity"],
      message: "is required with sshKnownHosts: Flux needs the private key (identity) to authenticate over SSH",
    });
  }
  if (scheme === "https" && (identity || knownHosts)) {
    issues.push({
      path: ["gitops", "credentials"],
      message: `SSH keys with an https:// URL (castle:gitops.url ${shown}): use ssh://... or a token`,
    });
  }
  if (scheme === "ssh" && token) {
    issues.push({
      path: ["gitops", "credentials", "token"],
      message: `a token with an ssh:// URL (castle:gitops.url ${shown}): use https://... or sshIdentity and sshKnownHosts`,
    });
  }
  if (scheme === "ssh" && !identity && !token) {
    issues.push({
      path: ["gitops", "credentials"],
      message: `is required for an ssh:// URL (${shown}): set sshIdentity and sshKnownHosts, or use an https:// URL for a public repository`,
    });
  }
  const carried = gitops.operatorChartVersion ? FLUX_VERSIONS_OF_OPERATOR[gitops.operatorChartVersion] : undefined;
  if (
    carried &&
    gitops.fluxVersion &&
    (compareVersions(gitops.fluxVersion, carried.min) < 0 || compareVersions(gitops.fluxVersion, carried.max) > 0)
  ) {
    issues.push({
      path: ["gitops", "fluxVersion"],
      message: `${gitops.fluxVersion} is not carried by the Flux Operator ${gitops.operatorChartVersion} (castle:gitops.operatorChartVersion), which installs Flux ${carried.min} to ${carried.max}: the FluxInstance would fail to build`,
    });
  }
  return issues;
}
