/**
 * The castle's one model of a node, used by config/, the components, index.ts and the CLI: its role,
 * and the node as the stack describes it (the role added from the list it is in).
 */

/** A node's Kubernetes role: a control plane (etcd, API server) or a worker. */
export type NodeRole = "controlPlane" | "worker";

/** One castle node: a Talos machine in its own Proxmox VM. */
export interface CastleNode {
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
  role: NodeRole;
}
