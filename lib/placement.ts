/**
 * Where the Talos disk image is downloaded: which Proxmox nodes get a copy, and which copy each node's VMs
 * import from. Pure: plain data in, plain data out.
 */

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
