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

/** Control planes first (the first is the one bootstrapped), then workers, each with its role. */
export function castleNodes(config: Pick<CastleConfig, "controlPlanes" | "workers">) {
  return [
    ...config.controlPlanes.map((node) => ({ ...node, role: "controlPlane" as const })),
    ...config.workers.map((node) => ({ ...node, role: "worker" as const })),
  ];
}
