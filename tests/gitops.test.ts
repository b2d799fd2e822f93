import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { GitOpsSchema } from "../config/schema";
import { checkAgainstEsoCrd } from "./support/eso-crd-facts";
import { checkAgainstFluxCrd } from "./support/flux-crd-facts";
import {
  isSecretMarked,
  type RecordedResource,
  resolved,
  settle,
  startMocks,
  unwrapSecrets,
} from "./support/pulumi-mocks";

const harness = startMocks();

const T = {
  component: "castle:index:GitOps",
  namespace: "kubernetes:core/v1:Namespace",
  release: "kubernetes:helm.sh/v3:Release",
  externalSecret: "kubernetes:external-secrets.io/v1:ExternalSecret",
  instance: "kubernetes:fluxcd.controlplane.io/v1:FluxInstance",
  store: "kubernetes:external-secrets.io/v1:ClusterSecretStore",
  secretStore: "kubernetes:external-secrets.io/v1:SecretStore",
  secret: "kubernetes:core/v1:Secret",
  eso: "test:index:EsoRelease",
  cluster: "test:index:Cluster",
} as const;

describe("GitOps", () => {
  let component: import("../components/gitops").GitOps;
  let clusterUrn: string;
  let storeUrn: string;
  let esoUrn: string;

  before(async () => {
    const k8s = await import("@pulumi/kubernetes");
    const pulumi = await import("@pulumi/pulumi");
    const { GitOps } = await import("../components/gitops");
    const { resolveGitOps } = await import("../config/gitops");
    const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
    // A cluster-lifetime resource, as index.ts passes one.
    class Cluster extends pulumi.CustomResource {
      constructor(name: string) {
        super(T.cluster, name, {});
      }
    }
    const cluster = new Cluster("talos");
    class EsoRelease extends pulumi.CustomResource {
      constructor(name: string) {
        super(T.eso, name, {});
      }
    }
    const esoRelease = new EsoRelease("eso");
    const gitCredentialStore = {
      hostAPI: "https://eu.infisical.com/",
      projectSlug: "castle-prod",
      environmentSlug: "prod",
      clientId: pulumi.secret("SENTINEL-GITOPS-CLIENT-ID"),
      clientSecret: pulumi.secret("SENTINEL-GITOPS-CLIENT-SECRET"),
      readyTimeoutSeconds: 300,
    };
    const store = new k8s.apiextensions.CustomResource(
      "store",
      { apiVersion: "external-secrets.io/v1", kind: "ClusterSecretStore", metadata: { name: "infisical" }, spec: {} },
      { provider },
    );
    const settings = (raw: Record<string, unknown>, clusterName: string) => {
      const resolvedSettings = resolveGitOps({ clusterName, gitops: GitOpsSchema.parse(raw) });
      assert.ok(resolvedSettings);
      return resolvedSettings;
    };
    component = new GitOps(
      "gitops",
      {
        gitops: settings(
          {
            url: "https://git.example.internal/castle/fleet.git",
            secretsPath: "/gitops/blue",
            credentials: { token: "FLUX_GIT_TOKEN", caCert: "GIT_CA_CERT" },
          },
          "blue",
        ),
        esoRelease,
        clusterStore: store,
        gitCredentialStore,
        deletedWith: cluster,
      },
      { provider },
    );
    new GitOps(
      "public",
      {
        gitops: settings({ url: "https://git.example.internal/castle/fleet.git", path: "fleet/green" }, "green"),
        esoRelease,
        clusterStore: store,
        deletedWith: cluster,
        values: { resources: { limits: { memory: "512Mi" } } },
      },
      { provider },
    );
    await settle();
    clusterUrn = await resolved(cluster.urn);
    storeUrn = harness.get(T.store, "store").urn;
    esoUrn = await resolved(esoRelease.urn);
  });

  const get = (type: string, name: string): RecordedResource => harness.get(type, name);

  it("registers the component, the namespace, the operator release, the Git credential's store, the pull secret and the instance", () => {
    assert.equal(get(T.component, "gitops").custom, false);
    assert.deepEqual(
      harness.resources
        .filter((r) => r.parent === `${T.component}::gitops`)
        .map((r) => `${r.type} ${r.name}`)
        .sort(),
      [
        `${T.namespace} gitops-namespace`,
        `${T.secret} gitops-git-store-credentials`,
        `${T.externalSecret} gitops-pull-secret`,
        `${T.secretStore} gitops-git-store`,
        `${T.instance} gitops-instance`,
        `${T.release} gitops-operator`,
      ],
    );
  });

  it("the Git credential has a store of flux-system alone, with its own identity's credentials, kept secret", async () => {
    const store = unwrapSecrets(get(T.secretStore, "gitops-git-store").inputs) as {
      metadata: { name: string; namespace: string; annotations: Record<string, string> };
      spec: { conditions?: unknown; provider: { infisical: Record<string, unknown> } };
    };
    assert.deepEqual(checkAgainstEsoCrd(store), []);
    assert.equal(store.metadata.name, "flux-git");
    assert.equal(store.metadata.namespace, "flux-system");
    assert.equal(store.metadata.annotations["pulumi.com/waitFor"], "condition=Ready");
    assert.equal(store.metadata.annotations["pulumi.com/timeoutSeconds"], "300");
    assert.deepEqual(store.spec.provider.infisical, {
      hostAPI: "https://eu.infisical.com",
      auth: {
        universalAuthCredentials: {
          clientId: { name: "flux-git-infisical", key: "clientId" },
          clientSecret: { name: "flux-git-infisical", key: "clientSecret" },
        },
      },
      secretsScope: { projectSlug: "castle-prod", environmentSlug: "prod", secretsPath: "/gitops/blue" },
    });
    const credentials = get(T.secret, "gitops-git-store-credentials");
    assert.deepEqual(credentials.inputs.metadata as Record<string, unknown>, {
      name: "flux-git-infisical",
      namespace: "flux-system",
    });
    assert.equal(isSecretMarked(credentials.inputs.stringData), true);
    assert.deepEqual(unwrapSecrets(credentials.inputs.stringData), {
      clientId: "SENTINEL-GITOPS-CLIENT-ID",
      clientSecret: "SENTINEL-GITOPS-CLIENT-SECRET",
    });
    assert.ok(harness.dependsOn(get(T.secretStore, "gitops-git-store"), credentials));
    assert.ok(harness.dependsOn(get(T.secretStore, "gitops-git-store"), harness.byUrn(esoUrn)));
    assert.equal(harness.dependsOn(get(T.secretStore, "gitops-git-store"), harness.byUrn(storeUrn)), false);
  });

  it("replaces a store whose spec changes, deleting it first, so the wait sees the new spec validated", () => {
    const store = get(T.secretStore, "gitops-git-store");
    assert.deepEqual(store.replaceOnChanges, ["spec"]);
    assert.equal(store.deleteBeforeReplace, true);
    // The ExternalSecret is updated in place: a replacement would delete the Secret it owns.
    assert.equal(get(T.externalSecret, "gitops-pull-secret").replaceOnChanges, undefined);
  });

  it("creates every in-cluster object with the castle's provider, deleted with the cluster", () => {
    for (const r of harness.resources.filter((x) => x.parent === `${T.component}::gitops`)) {
      assert.match(r.provider ?? "", /::pulumi:providers:kubernetes::cluster::/, r.name);
      assert.equal(r.deletedWith, clusterUrn, r.name);
    }
  });

  it("creates flux-system first: the release, the pull secret and the instance wait for it", () => {
    const namespace = get(T.namespace, "gitops-namespace");
    assert.deepEqual(namespace.inputs.metadata, { name: "flux-system" });
    for (const [type, name] of [
      [T.release, "gitops-operator"],
      [T.externalSecret, "gitops-pull-secret"],
      [T.instance, "gitops-instance"],
    ] as const) {
      assert.ok(harness.dependsOn(get(type, name), namespace), name);
    }
  });

  it("installs the pinned operator from its OCI chart, with no repository, and waits for it", () => {
    const inputs = unwrapSecrets(get(T.release, "gitops-operator").inputs) as Record<string, unknown>;
    assert.equal(inputs.name, "flux-operator");
    assert.equal(inputs.chart, "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator");
    assert.equal(inputs.version, "0.58.1");
    assert.equal(inputs.repositoryOpts, undefined);
    assert.equal(inputs.namespace, "flux-system");
    assert.equal(inputs.createNamespace, false);
    assert.equal(inputs.skipAwait, false);
    assert.equal(inputs.atomic, true);
    assert.equal(inputs.timeout, 600);
    assert.deepEqual(inputs.values, { installCRDs: true, web: { enabled: false }, multitenancy: { enabled: false } });
    const custom = unwrapSecrets(get(T.release, "public-operator").inputs) as { values: Record<string, unknown> };
    assert.deepEqual(custom.values.resources, { limits: { memory: "512Mi" } });
  });

  it("the operator waits for neither ESO nor a store; the pull secret waits for the Git credential's store", () => {
    assert.equal(harness.dependsOn(get(T.release, "gitops-operator"), harness.byUrn(storeUrn)), false);
    assert.equal(harness.dependsOn(get(T.release, "gitops-operator"), harness.byUrn(esoUrn)), false);
    assert.ok(harness.dependsOn(get(T.externalSecret, "gitops-pull-secret"), get(T.secretStore, "gitops-git-store")));
  });

  it("creates the instance only after the operator, ESO's release, the cluster's store and the pull secret", () => {
    const instance = get(T.instance, "gitops-instance");
    assert.ok(harness.dependsOn(instance, get(T.release, "gitops-operator")));
    assert.ok(harness.dependsOn(instance, get(T.externalSecret, "gitops-pull-secret")));
    assert.ok(harness.dependsOn(instance, harness.byUrn(esoUrn)));
    assert.ok(harness.dependsOn(instance, harness.byUrn(storeUrn)));
  });

  it("builds a FluxInstance valid against the CRD facts, with the pull secret the ExternalSecret writes", () => {
    const instance = unwrapSecrets(get(T.instance, "gitops-instance").inputs) as {
      metadata: { name: string; annotations: Record<string, string> };
      spec: { sync: Record<string, string> };
    };
    assert.deepEqual(checkAgainstFluxCrd(instance), []);
    assert.equal(instance.metadata.name, "flux");
    assert.equal(instance.metadata.annotations["pulumi.com/waitFor"], "condition=Ready");
    assert.deepEqual(instance.spec.sync, {
      kind: "GitRepository",
      url: "https://git.example.internal/castle/fleet.git",
      ref: "refs/heads/main",
      path: "clusters/blue",
      interval: "1m",
      pullSecret: "flux-system",
    });
    const pullSecret = unwrapSecrets(get(T.externalSecret, "gitops-pull-secret").inputs) as {
      metadata: { annotations: Record<string, string> };
      spec: {
        secretStoreRef: Record<string, string>;
        target: { name: string; template: { data: Record<string, string> } };
        data: unknown[];
      };
    };
    assert.deepEqual(checkAgainstEsoCrd(pullSecret), []);
    assert.equal(pullSecret.spec.target.name, instance.spec.sync.pullSecret);
    assert.deepEqual(pullSecret.spec.secretStoreRef, { kind: "SecretStore", name: "flux-git" });
    assert.deepEqual(pullSecret.spec.target.template.data, {
      username: "git",
      password: "{{ .token }}",
      "ca.crt": "{{ .caCert }}",
    });
    assert.equal(pullSecret.metadata.annotations["pulumi.com/waitFor"], "condition=Ready");
    assert.match(pullSecret.metadata.annotations["pulumi.com/timeoutSeconds"] ?? "", /^\d+$/);
  });

  it("a public repository: no store nor pull secret; the instance still waits for ESO and the cluster's store", () => {
    assert.deepEqual(
      harness.resources
        .filter((r) => r.parent === `${T.component}::public`)
        .map((r) => r.type)
        .sort(),
      [T.namespace, T.instance, T.release],
    );
    const instance = get(T.instance, "public-instance");
    const sync = (unwrapSecrets(instance.inputs) as { spec: { sync: Record<string, string> } }).spec.sync;
    assert.equal(sync.pullSecret, undefined);
    assert.equal(sync.path, "fleet/green");
    assert.ok(harness.dependsOn(instance, get(T.release, "public-operator")));
    assert.ok(harness.dependsOn(instance, harness.byUrn(esoUrn)));
    assert.ok(harness.dependsOn(instance, harness.byUrn(storeUrn)));
  });

  it("outputs the repository, reference and path it syncs", () => {
    assert.equal(component.url, "https://git.example.internal/castle/fleet.git");
    assert.equal(component.ref, "refs/heads/main");
    assert.equal(component.path, "clusters/blue");
  });

  it("refuses credentials without the Git credential's folder and identity, before registering anything", async () => {
    const pulumi = await import("@pulumi/pulumi");
    const { GitOps } = await import("../components/gitops");
    const before = harness.resources.length;
    assert.throws(
      () =>
        new GitOps("orphan", {
          gitops: {
            ...GitOpsSchema.parse({ url: "https://h/r.git", secretsPath: "/gitops/x", credentials: { token: "T" } }),
            path: "clusters/x",
          },
          esoRelease: new pulumi.ComponentResource("test:index:Nothing", "eso-nothing"),
          clusterStore: new pulumi.ComponentResource("test:index:Nothing", "store-nothing"),
          deletedWith: new pulumi.ComponentResource("test:index:Nothing", "nothing"),
        }),
      /needs castle:gitops.secretsPath and the Git credential's identity/,
    );
    await settle();
    assert.equal(harness.resources.filter((r) => r.name.startsWith("orphan")).length, 0);
    assert.ok(harness.resources.length >= before);
  });
});
