/**
 * What the program derives from a stack's topology, once: the Kubernetes API endpoint and the list of
 * castle nodes with their roles. `index.ts` and `castle check` both read them from here.
 */
import type { CastleConfig } from "./schema";

/** The port kube-apiserver listens on, behind the Layer 2 VIP. */
const KUBERNETES_API_PORT = 6443;

/** The Kubernetes API endpoint: the VIP, held by one control plane at a time. */
export function clusterEndpoint(network: Pick<CastleConfig["network"], "vip">): string {
  return `https://${network.vip}:${KUBERNETES_API_PORT}`;
}

/**
 * Whether the control planes run workloads too: `castle:talos.allowSchedulingOnControlPlanes`, by default
 * when the stack lists no workers (someone must run the ESO and Flux pods).
 */
export function controlPlanesRunWorkloads(config: Pick<CastleConfig, "talos" | "workers">): boolean {
  return config.talos.allowSchedulingOnControlPlanes ?? config.workers.length === 0;
}

/** Control planes first (the first is the one bootstrapped), then workers, each with its role. */
export function castleNodes(config: Pick<CastleConfig, "controlPlanes" | "workers">) {
  return [
    ...config.controlPlanes.map((node) => ({ ...node, role: "controlPlane" as const })),
    ...config.workers.map((node) => ({ ...node, role: "worker" as const })),
  ];
}
