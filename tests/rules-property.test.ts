/**
 * A property test of the stack rules: random valid stacks are accepted by `castle check` and by the
 * program's configuration path alike, and a random single mistake in one is refused by both, with the
 * same problems. Each stack is written as a stack file and read both ways (see config-agreement.test.ts).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { stringify } from "yaml";
import { CASTLE_NAMESPACE } from "../config/load";
import { readBothWays } from "./support/both-ways";

interface Node {
  hostname: string;
  ip: string;
  vmId: number;
  proxmoxNode: string;
}

interface Stack {
  clusterName: string;
  subnet: number;
  proxmoxNodes: string[];
  controlPlanes: Node[];
  workers: Node[];
  vipHost: number;
  namespaces: string[];
  externalSecrets: { name: string; namespace: string; keys: string[] }[];
}

/** A stack that follows every rule: odd control planes, unique addresses, IDs and names, all inside the subnet. */
const validStack: fc.Arbitrary<Stack> = fc
  .record({
    clusterName: fc.constantFrom("alpha", "castle-1", "lab", "prod-eu"),
    subnet: fc.integer({ min: 0, max: 250 }),
    pveCount: fc.integer({ min: 1, max: 3 }),
    controlPlanes: fc.constantFrom(1, 3, 5),
    workers: fc.integer({ min: 0, max: 4 }),
    hosts: fc.shuffledSubarray(
      Array.from({ length: 200 }, (_, i) => i + 10),
      { minLength: 10, maxLength: 10 },
    ),
    vmBase: fc.integer({ min: 100, max: 900_000 }),
    placement: fc.array(fc.nat(), { minLength: 9, maxLength: 9 }),
    secrets: fc.integer({ min: 0, max: 2 }),
  })
  .map((r) => {
    const proxmoxNodes = Array.from({ length: r.pveCount }, (_, i) => `pve${i + 1}`);
    const node = (role: string, i: number, k: number): Node => ({
      hostname: `${r.clusterName}-${role}-${i + 1}`,
      ip: `10.${r.subnet}.0.${r.hosts[k]}`,
      vmId: r.vmBase + k,
      proxmoxNode: proxmoxNodes[(r.placement[k] ?? 0) % proxmoxNodes.length] as string,
    });
    const controlPlanes = Array.from({ length: r.controlPlanes }, (_, i) => node("cp", i, i));
    const workers = Array.from({ length: r.workers }, (_, i) => node("wk", i, r.controlPlanes + i));
    return {
      clusterName: r.clusterName,
      subnet: r.subnet,
      proxmoxNodes,
      controlPlanes,
      workers,
      vipHost: r.hosts[9] as number,
      namespaces: ["apps", "monitoring"],
      externalSecrets: Array.from({ length: r.secrets }, (_, i) => ({
        name: `app-${i}`,
        namespace: i % 2 === 0 ? "apps" : "monitoring",
        keys: [`KEY_${i}`],
      })),
    };
  });

/** One mistake each: what `castle check` exists to catch. */
const MISTAKES: { name: string; apply: (s: Stack) => void }[] = [
  { name: "two nodes share an IP", apply: (s) => ((s.controlPlanes[0] as Node).ip = lastNode(s).ip) },
  { name: "a node outside the subnet", apply: (s) => (lastNode(s).ip = `10.${(s.subnet + 1) % 256}.0.20`) },
  { name: "a node on the VIP", apply: (s) => (lastNode(s).ip = `10.${s.subnet}.0.${s.vipHost}`) },
  { name: "two nodes share a VM ID", apply: (s) => (lastNode(s).vmId = (s.controlPlanes[0] as Node).vmId) },
  { name: "two nodes share a hostname", apply: (s) => (lastNode(s).hostname = (s.controlPlanes[0] as Node).hostname) },
  {
    name: "an even number of control planes",
    apply: (s) =>
      s.controlPlanes.push({
        ...(s.controlPlanes[0] as Node),
        hostname: "extra-cp",
        ip: `10.${s.subnet}.0.252`,
        vmId: 1,
      }),
  },
  { name: "a node on an unlisted Proxmox node", apply: (s) => (lastNode(s).proxmoxNode = "pve9") },
  {
    name: "an ExternalSecret outside the allowed namespaces",
    apply: (s) => s.externalSecrets.push({ name: "stray", namespace: "kube-system", keys: ["X"] }),
  },
  {
    name: "two ExternalSecrets with one namespace and name",
    apply: (s) =>
      s.externalSecrets.push(
        { name: "dup", namespace: "apps", keys: ["A"] },
        { name: "dup", namespace: "apps", keys: ["B"] },
      ),
  },
];

/** The last node, never the first control plane: a worker is added (validly) to a single-node stack first. */
function lastNode(s: Stack): Node {
  if (s.workers.length === 0 && s.controlPlanes.length === 1) {
    s.workers.push({
      hostname: "added-wk",
      ip: `10.${s.subnet}.0.251`,
      vmId: 99,
      proxmoxNode: s.proxmoxNodes[0] as string,
    });
  }
  return (s.workers.at(-1) ?? s.controlPlanes.at(-1)) as Node;
}

function stackFile(s: Stack): string {
  const c = (key: string) => `${CASTLE_NAMESPACE}:${key}`;
  return stringify({
    config: {
      [c("clusterName")]: s.clusterName,
      [c("kubernetesVersion")]: "1.36.3",
      [c("talos")]: { version: "v1.13.9" },
      [c("proxmox")]: { endpoint: "https://pve.example.internal:8006/", nodes: s.proxmoxNodes },
      [c("network")]: {
        cidr: `10.${s.subnet}.0.0/24`,
        gateway: `10.${s.subnet}.0.1`,
        dns: [`10.${s.subnet}.0.1`],
        vip: `10.${s.subnet}.0.${s.vipHost}`,
      },
      [c("controlPlanes")]: s.controlPlanes,
      [c("workers")]: s.workers,
      [c("infisical")]: {
        projectId: "4f6c2a8e-7b1d-4c3e-9a5f-2d8b6e1c0a97",
        projectSlug: "castle",
        environment: "prod",
        secretPath: "/castle",
      },
      [c("eso")]: { secretsPath: "/apps", allowedNamespaces: s.namespaces, externalSecrets: s.externalSecrets },
    },
  });
}

describe("the stack rules, on random stacks", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "castle-property-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const bothWays = (s: Stack) => readBothWays(dir, "prop", stackFile(s));

  it("accepts every valid stack, by check and by the program alike", () => {
    fc.assert(
      fc.property(validStack, (s) => {
        const { byCheck, byProgram } = bothWays(s);
        assert.ok("config" in byCheck, JSON.stringify(byCheck));
        assert.deepEqual(byProgram, byCheck);
      }),
      { numRuns: 60 },
    );
  });

  it("refuses every single mistake, by check and by the program alike, with the same problems", () => {
    fc.assert(
      fc.property(validStack, fc.constantFrom(...MISTAKES), (s, mistake) => {
        mistake.apply(s);
        const { byCheck, byProgram } = bothWays(s);
        assert.ok("problems" in byCheck && byCheck.problems.length > 0, `${mistake.name} was accepted`);
        assert.deepEqual(byProgram, byCheck);
      }),
      { numRuns: 80 },
    );
  });
});
