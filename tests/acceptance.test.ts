/**
 * `castle verify`'s verdicts on what the running castle reports (lib/acceptance.ts): each can pass and
 * each fails, naming the object, for what the pinned controllers report when something is wrong.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  judgeEso,
  judgeFlux,
  judgeMarks,
  judgeVersions,
  type KubeObject,
  listSome,
  revisionMatchesRef,
} from "../lib/acceptance";
import { guardTags } from "../lib/guard-tags";
import { healthyBlueCluster } from "./support/running-castle";

const FP = "sha256:0123456789abcdef";
const cluster = () => healthyBlueCluster().objects;
const ESO = {
  storeName: "infisical",
  externalSecrets: ["monitoring/grafana-admin", "flux-system/flux-git-credentials"],
};
const FLUX = {
  instance: "flux",
  namespace: "flux-system",
  syncName: "flux-system",
  fluxVersion: "2.9.4",
  ref: "refs/heads/main",
};
const flux = (): KubeObject[] => {
  const o = cluster();
  return [
    o["fluxinstances.fluxcd.controlplane.io/flux"],
    o["gitrepositories.source.toolkit.fluxcd.io/flux-system"],
    o["kustomizations.kustomize.toolkit.fluxcd.io/flux-system"],
  ];
};
const eso = (change?: (objects: ReturnType<typeof cluster>) => void) => {
  const o = cluster();
  change?.(o);
  const secrets = new Set(healthyBlueCluster().secrets);
  return judgeEso(o["clustersecretstores.external-secrets.io"], o["externalsecrets.external-secrets.io"], secrets, ESO);
};
const notReady = (reason: string, message: string) => ({
  conditions: [{ type: "Ready", status: "False", reason, message }],
});

describe("marks", () => {
  const vm = (tags: string[] | undefined) => ({ hostname: "blue-cp-1", vmId: 2011, proxmoxNode: "pve1", tags });
  const expected = { fingerprint: FP, contract: "v1.13", clusterName: "blue", castleTag: "castle" };
  const marked = (fingerprint: string, contract: string) => ["blue", "castle", ...guardTags({ fingerprint, contract })];

  it("passes marks equal to Infisical's key and the contract; fails each difference, naming the VM", () => {
    assert.equal(judgeMarks([vm(marked(FP, "v1.13"))], expected).ok, true);
    const cases: [string[] | undefined, RegExp][] = [
      [
        marked("sha256:ffffffffffffffff", "v1.13"),
        /blue-cp-1 \(VM 2011 on pve1\): key fingerprint sha256:ffffffffffffffff, Infisical's key is sha256:0123/,
      ],
      [marked(FP, "v1.12"), /contract v1\.12, configured v1\.13/],
      [["castle", "blue"], /key fingerprint missing.*contract missing/],
      [["castle", ...guardTags({ fingerprint: FP, contract: "v1.13" })], /not tagged castle and blue/],
      [undefined, /blue-cp-1 \(VM 2011 on pve1\): no such VM/],
    ];
    for (const [tags, pattern] of cases) {
      const verdict = judgeMarks([vm(tags)], expected);
      assert.equal(verdict.ok, false, String(tags));
      assert.match(verdict.detail, pattern);
    }
  });
});

describe("ESO", () => {
  it("passes the healthy castle", () => assert.equal(eso().ok, true));

  it("fails a store not Ready with ESO's reason, a missing store, a missing ExternalSecret", () => {
    const store = eso((o) => {
      (o["clustersecretstores.external-secrets.io"][0] as KubeObject).status = notReady(
        "InvalidProviderConfig",
        "unable to log in to Infisical: 401",
      );
    });
    assert.match(
      store.detail,
      /^ClusterSecretStore infisical: Ready False \(InvalidProviderConfig\): unable to log in to Infisical: 401$/,
    );
    const missing = eso((o) => {
      o["clustersecretstores.external-secrets.io"].length = 0;
      o["externalsecrets.external-secrets.io"].pop();
    });
    assert.match(
      missing.detail,
      /ClusterSecretStore infisical is missing; ExternalSecret flux-system\/flux-git-credentials is missing/,
    );
  });

  it("judges namespaced SecretStores too, and does not take one for the stack's ClusterSecretStore", () => {
    const stores = [
      {
        kind: "SecretStore",
        metadata: { namespace: "flux-system", name: "infisical" },
        status: notReady("InvalidProviderConfig", "401"),
      },
    ];
    const verdict = judgeEso(stores, [], new Set(), { storeName: "infisical", externalSecrets: [] });
    assert.equal(
      verdict.detail,
      "ClusterSecretStore infisical is missing; SecretStore flux-system/infisical: Ready False (InvalidProviderConfig): 401",
    );
  });

  it("fails an ExternalSecret not Ready, synced before its last change, or whose target is gone", () => {
    const cases: [(es: ReturnType<typeof cluster>["externalsecrets.external-secrets.io"][number]) => void, RegExp][] = [
      [
        (es) => Object.assign(es.status, notReady("SecretSyncedError", "could not get secret data from provider")),
        /ExternalSecret monitoring\/grafana-admin: Ready False \(SecretSyncedError\): could not get secret data/,
      ],
      [
        (es) => Object.assign(es.metadata, { generation: 2 }),
        /last synced at version 1-0a1b2c3d4e5f, its spec is at generation 2/,
      ],
      [
        (es) => Object.assign(es.spec, { target: { name: "renamed" } }),
        /its target Secret monitoring\/renamed is missing/,
      ],
      [(es) => Object.assign(es, { status: {} }), /monitoring\/grafana-admin: no Ready condition yet/],
    ];
    for (const [change, pattern] of cases) {
      const verdict = eso((o) => change(o["externalsecrets.external-secrets.io"][0]));
      assert.equal(verdict.ok, false);
      assert.match(verdict.detail, pattern);
    }
  });
});

describe("Flux", () => {
  it("passes the healthy castle, and reads both revision forms of a reference", () => {
    assert.equal(judgeFlux(flux(), FLUX).ok, true);
    assert.ok(revisionMatchesRef("main@sha1:abc123", "refs/heads/main"));
    assert.ok(revisionMatchesRef("refs/heads/main@sha1:abc123", "refs/heads/main"));
    assert.ok(revisionMatchesRef("v1.2.0@sha256:abc123", "refs/tags/v1.2.0"));
    assert.ok(!revisionMatchesRef("develop@sha1:abc123", "refs/heads/main"));
    assert.ok(!revisionMatchesRef("main@sha1:", "refs/heads/main"));
    assert.ok(!revisionMatchesRef("mainline@sha1:abc", "refs/heads/main"));
  });

  it("fails another Flux version, another reference, a sync not Ready, a missing object", () => {
    const cases: [(objects: KubeObject[]) => void, RegExp][] = [
      [
        (o) => {
          Object.assign(o[0].status ?? {}, { lastAppliedRevision: "v2.8.0@sha256:aa" });
        },
        /applied v2\.8\.0@sha256:aa, configured Flux v2\.9\.4/,
      ],
      [
        (o) => {
          Object.assign(o[2].status ?? {}, { lastAppliedRevision: "develop@sha1:abc" });
        },
        /Kustomization flux-system\/flux-system: at develop@sha1:abc, not a commit of refs\/heads\/main/,
      ],
      [
        (o) => {
          Object.assign(o[1], { status: notReady("GitOperationFailed", "authentication required") });
        },
        /GitRepository flux-system\/flux-system: Ready False \(GitOperationFailed\): authentication required/,
      ],
      [
        (o) => {
          o.shift();
        },
        /FluxInstance flux-system\/flux is missing/,
      ],
    ];
    for (const [change, pattern] of cases) {
      const objects = flux();
      change(objects);
      const verdict = judgeFlux(objects, FLUX);
      assert.equal(verdict.ok, false);
      assert.match(verdict.detail, pattern);
    }
  });
});

describe("versions", () => {
  const expected = { hostnames: ["blue-cp-1", "blue-wk-1"], talosVersion: "v1.13.9", kubernetesVersion: "1.36.3" };
  const node = (name: string, osImage: string, kubeletVersion: string) => ({
    metadata: { name },
    status: { nodeInfo: { osImage, kubeletVersion } },
  });

  it("passes nodes on the configured versions; fails another Talos, another kubelet, a missing node", () => {
    const good = [node("blue-cp-1", "Talos (v1.13.9)", "v1.36.3"), node("blue-wk-1", "Talos (v1.13.9)", "v1.36.3")];
    assert.equal(judgeVersions(good, expected).ok, true);
    const bad = judgeVersions([node("blue-cp-1", "Talos (v1.13.8)", "v1.36.2")], expected);
    assert.equal(bad.ok, false);
    assert.equal(
      bad.detail,
      "blue-cp-1: runs Talos (v1.13.8), configured Talos (v1.13.9); blue-cp-1: kubelet v1.36.2, configured v1.36.3; blue-wk-1: not a node of the cluster",
    );
  });

  it("lists a few problems and counts the rest", () => {
    assert.equal(listSome(["a", "b", "c"], 2), "a; b; and 1 more");
  });
});
