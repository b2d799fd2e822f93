/**
 * A running blue castle (Pulumi.blue.yaml) as `castle verify` reads it, for the stand-ins: what kubectl
 * returns (ESO's and Flux's objects, the nodes, the Secrets' names), the control planes' Proxmox tags,
 * and the folders the talosctl and kubectl stand-ins read their state from.
 *
 * Object shapes follow the pinned controllers: ESO v2.9.0 (status.conditions Ready/SecretSynced,
 * status.syncedResourceVersion `<generation>-<hash>`, status.binding), flux-operator v0.58.1
 * (FluxInstance status.lastAppliedRevision `<version>@sha256:<digest>`), source-controller
 * (status.artifact.revision `main@sha1:<hash>`, fluxcd/pkg git/v0.52.0 `Commit.String`) and
 * kustomize-controller (status.lastAppliedRevision), Talos v1.13.9 (osImage `Talos (v1.13.9)`).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { guardTags } from "../../lib/guard-tags";
import { secretboxKeyFingerprint } from "../../lib/secretbox";
import type { StandInIdentity } from "../../offline/infisical-stand-in";
import { ProxmoxStandIn, type StandInVm } from "./proxmox-stand-in";

/**
 * The three Infisical identities of a blue castle, each walled to its own folder of `project`'s `prod`:
 * the deploy identity (`deploy`) to /castle/blue, the cluster's (ESO_CLIENT_ID/SECRET of `values`) to
 * /apps/blue and the Git credential's (GITOPS_CLIENT_ID/SECRET) to /gitops/blue.
 */
export function blueIdentities(
  project: string,
  deploy: { clientId: string; clientSecret: string },
  values: Record<string, string>,
): StandInIdentity[] {
  const walled = (clientId: string, clientSecret: string, folder: string): StandInIdentity => ({
    clientId,
    clientSecret,
    grants: [{ projectId: project, environment: "prod", paths: [folder] }],
  });
  return [
    walled(deploy.clientId, deploy.clientSecret, "/castle/blue"),
    walled(values.ESO_CLIENT_ID, values.ESO_CLIENT_SECRET, "/apps/blue"),
    walled(values.GITOPS_CLIENT_ID, values.GITOPS_CLIENT_SECRET, "/gitops/blue"),
  ];
}

const ready = (reason: string) => ({
  conditions: [{ type: "Ready", status: "True", reason, message: "", lastTransitionTime: "2026-11-30T09:05:00Z" }],
});
const COMMIT = "sha1:3f1c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a";

export const BLUE_CONTROL_PLANES = [
  { hostname: "blue-cp-1", vmId: 2011, node: "pve1" },
  { hostname: "blue-cp-2", vmId: 2012, node: "pve2" },
  { hostname: "blue-cp-3", vmId: 2013, node: "pve3" },
];
const BLUE_NODES = [...BLUE_CONTROL_PLANES.map((c) => c.hostname), "blue-wk-1", "blue-wk-2"];

function externalSecret(
  namespace: string,
  name: string,
  target: string,
  store: { kind: string; name: string } = { kind: "ClusterSecretStore", name: "infisical" },
) {
  return {
    apiVersion: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: { namespace, name, generation: 1 },
    spec: { secretStoreRef: store, target: { name: target } },
    status: { ...ready("SecretSynced"), syncedResourceVersion: "1-0a1b2c3d4e5f", binding: { name: target } },
  };
}

/** The kubectl stand-in's state for a healthy blue castle. */
export function healthyBlueCluster() {
  return {
    objects: {
      "clustersecretstores.external-secrets.io": [
        { kind: "ClusterSecretStore", metadata: { name: "infisical", generation: 1 }, status: ready("Valid") },
      ],
      // The Git credential's own store, of flux-system alone.
      "secretstores.external-secrets.io": [
        {
          kind: "SecretStore",
          metadata: { namespace: "flux-system", name: "flux-git", generation: 1 },
          status: ready("Valid"),
        },
      ] as unknown[],
      "externalsecrets.external-secrets.io": [
        externalSecret("monitoring", "grafana-admin", "grafana-admin"),
        externalSecret("flux-system", "flux-git-credentials", "flux-system", { kind: "SecretStore", name: "flux-git" }),
      ],
      "fluxinstances.fluxcd.controlplane.io/flux": {
        kind: "FluxInstance",
        metadata: { namespace: "flux-system", name: "flux", generation: 1 },
        status: {
          ...ready("ReconciliationSucceeded"),
          lastAppliedRevision: "v2.9.4@sha256:5c1f0e3a9b2d8c7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e",
        },
      },
      "gitrepositories.source.toolkit.fluxcd.io/flux-system": {
        kind: "GitRepository",
        metadata: { namespace: "flux-system", name: "flux-system", generation: 1 },
        status: { ...ready("Succeeded"), artifact: { revision: `main@${COMMIT}` } },
      },
      "kustomizations.kustomize.toolkit.fluxcd.io/flux-system": {
        kind: "Kustomization",
        metadata: { namespace: "flux-system", name: "flux-system", generation: 1 },
        status: { ...ready("ReconciliationSucceeded"), lastAppliedRevision: `main@${COMMIT}` },
      },
      nodes: BLUE_NODES.map((name) => ({
        kind: "Node",
        metadata: { name },
        status: { nodeInfo: { osImage: "Talos (v1.13.9)", kubeletVersion: "v1.36.3" } },
      })),
    },
    secrets: ["monitoring/grafana-admin", "flux-system/flux-system", "kube-system/bootstrap-token-abcdef"],
  };
}

/** The blue control planes as Proxmox shows them, marked with `fingerprint` and contract v1.13. */
export function markedBlueVms(fingerprint: string): StandInVm[] {
  return BLUE_CONTROL_PLANES.map((cp) => ({
    node: cp.node,
    vmId: cp.vmId,
    name: cp.hostname,
    tags: ["castle", "blue", "control-plane", ...guardTags({ fingerprint, contract: "v1.13" })],
  }));
}

/** A folder for a stand-in executable's state. */
export function standInFolder(prefix: string, state: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  writeFileSync(path.join(dir, "state.json"), JSON.stringify(state));
  writeFileSync(path.join(dir, "calls.log"), "");
  return dir;
}

/**
 * Every stand-in `castle verify` reads, for a run through the command line: the talosctl and kubectl
 * stand-ins' folders (their variables set in process.env while started) and the Proxmox API.
 */
export class RunningCastle {
  readonly proxmox = new ProxmoxStandIn();
  talosDir = "";
  kubeDir = "";

  async start(): Promise<void> {
    await this.proxmox.start();
    this.talosDir = standInFolder("castle-talosctl-", {});
    this.kubeDir = standInFolder("castle-kubectl-", {});
    process.env.CASTLE_TALOSCTL_STAND_IN = this.talosDir;
    process.env.CASTLE_KUBECTL_STAND_IN = this.kubeDir;
  }

  /** A healthy blue castle: etcd is `snapshot` (a file of tests/fixtures/etcd), marks from `key`. */
  healthy(options: { key: string; proxmoxToken: string; snapshot?: string }): void {
    this.proxmox.token = options.proxmoxToken;
    this.proxmox.vms = markedBlueVms(secretboxKeyFingerprint(options.key));
    const snapshot = path.join(__dirname, "..", "fixtures", "etcd", options.snapshot ?? "sealed.db");
    writeFileSync(path.join(this.talosDir, "state.json"), JSON.stringify({ snapshot }));
    writeFileSync(path.join(this.kubeDir, "state.json"), JSON.stringify(healthyBlueCluster()));
  }

  async close(): Promise<void> {
    delete process.env.CASTLE_TALOSCTL_STAND_IN;
    delete process.env.CASTLE_KUBECTL_STAND_IN;
    await this.proxmox.close();
    for (const dir of [this.talosDir, this.kubeDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
