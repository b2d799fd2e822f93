/**
 * The names of the castle's stack outputs: one module, read by the program that writes them (index.ts),
 * the guard rails that read them back (config/guards.ts) and the `castle` command (status, recreate,
 * kubeconfig, talosconfig). Renaming an output is a change here alone; a name once released is kept,
 * since a stack deployed by an earlier version still holds it.
 */
export const STACK_OUTPUTS = {
  /** The Kubernetes API endpoint, `https://<vip>:6443` (plain). */
  endpoint: "endpoint",
  /** Hostname, address and role of every node (plain). */
  nodes: "nodes",
  /** Non-secret fingerprint of the etcd secretbox key (plain; read back by the re-keying guard). */
  secretboxKeyFingerprint: "secretboxKeyFingerprint",
  /** The machine secrets' Talos version contract (plain; read back by the re-keying guard). */
  talosContract: "talosContract",
  /** The Talos release the nodes run (plain). */
  talosVersion: "talosVersion",
  /** The Kubernetes version (plain). */
  kubernetesVersion: "kubernetesVersion",
  /** `true` once the health check of a real update passed (plain; read by `castle status` and `recreate`). */
  clusterHealthy: "clusterHealthy",
  /** Name of the ClusterSecretStore (plain). */
  storeName: "storeName",
  /** The repository, reference and path Flux syncs, with `castle:gitops` (plain). */
  gitopsRepository: "gitopsRepository",
  gitopsRef: "gitopsRef",
  gitopsPath: "gitopsPath",
  /** Admin kubeconfig (secret). */
  kubeconfig: "kubeconfig",
  /** talosconfig for talosctl (secret). */
  talosconfig: "talosconfig",
} as const;

export type StackOutputName = (typeof STACK_OUTPUTS)[keyof typeof STACK_OUTPUTS];
