/**
 * Benchmark topologies: the blue stack's configuration with its control planes and workers replaced by
 * generated ones, validated by the same parser as a real stack. Secrets are valid dummies.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { parseCastleConfig, readStackFile } from "../config/load";
import type { CastleConfig } from "../config/schema";
import type { CastleSecretValues } from "../config/secrets";

export const PROJECT_DIR = path.resolve(__dirname, "..");

export interface Topology {
  /** `<control planes>+<workers>`, e.g. `3+2`. */
  name: string;
  controlPlanes: number;
  workers: number;
}

export const TOPOLOGIES: readonly Topology[] = [
  { name: "1+0", controlPlanes: 1, workers: 0 },
  { name: "3+2", controlPlanes: 3, workers: 2 },
  { name: "3+10", controlPlanes: 3, workers: 10 },
  { name: "5+30", controlPlanes: 5, workers: 30 },
];

export function topologyNamed(name: string): Topology {
  const found = TOPOLOGIES.find((t) => t.name === name);
  if (found === undefined) {
    throw new Error(`unknown topology "${name}"; known: ${TOPOLOGIES.map((t) => t.name).join(", ")}`);
  }
  return found;
}

const BASE_STACK = "blue";

/**
 * The blue stack with `topology`'s nodes: control planes at .11.., workers at .100.. of the blue subnet,
 * spread round-robin over the stack's Proxmox nodes, sized like the stack's own nodes.
 */
export function topologyConfig(topology: Topology): CastleConfig {
  const raw = readStackFile(PROJECT_DIR, BASE_STACK);
  const proxmoxNodes = (raw.proxmox as { nodes: string[] }).nodes;
  const prefix = (raw.network as { cidr: string }).cidr.split(".").slice(0, 3).join(".");
  const node = (role: "cp" | "wk", i: number, hostOffset: number, vmBase: number, size: object) => ({
    hostname: `${BASE_STACK}-${role}-${i}`,
    ip: `${prefix}.${hostOffset + i}`,
    vmId: vmBase + i,
    proxmoxNode: proxmoxNodes[(i - 1) % proxmoxNodes.length],
    ...size,
  });
  raw.controlPlanes = Array.from({ length: topology.controlPlanes }, (_, i) =>
    node("cp", i + 1, 10, 2010, { cores: 2, memoryMiB: 4096, diskGiB: 32 }),
  );
  raw.workers = Array.from({ length: topology.workers }, (_, i) =>
    node("wk", i + 1, 99, 2100, { cores: 4, memoryMiB: 8192, diskGiB: 64 }),
  );
  return parseCastleConfig(BASE_STACK, `Pulumi.${BASE_STACK}.yaml with topology ${topology.name}`, raw);
}

/**
 * Valid dummy secrets: a strong 32-byte secretbox key (a SHA-256), a well-formed Proxmox token id, and the
 * Git credential's own identity (the blue stack has Git credentials, which need it).
 */
export function dummySecretValues(): CastleSecretValues {
  return {
    secretboxKey: createHash("sha256").update("castle-bench-secretbox-key").digest("base64"),
    proxmoxTokenId: "castle@pve!bench",
    proxmoxTokenSecret: "00000000-0000-4000-8000-000000000000",
    esoClientId: "bench-eso-client-id",
    esoClientSecret: "bench-eso-client-secret",
    gitopsClientId: "bench-gitops-client-id",
    gitopsClientSecret: "bench-gitops-client-secret",
  };
}

export { BASE_STACK };
