import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { resolved, settle, startMocks, unwrapSecrets } from "./support/pulumi-mocks";

const harness = startMocks();

/** Stands in for the resource that lives as long as the cluster (the Talos machine secrets). */
class Lifetime extends pulumi.CustomResource {
  constructor(name: string) {
    super("test:index:Lifetime", name, {});
  }
}

describe("ExternalSecrets", () => {
  let component: import("../components/external-secrets").ExternalSecrets;

  before(async () => {
    const k8s = await import("@pulumi/kubernetes");
    const { ExternalSecrets } = await import("../components/external-secrets");
    const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
    const deletedWith = new Lifetime("cluster-lifetime");
    component = new ExternalSecrets(
      "eso",
      { namespace: "external-secrets", chartVersion: "2.9.0", deletedWith },
      { provider },
    );
    new ExternalSecrets(
      "custom",
      {
        namespace: "eso-custom",
        chartVersion: "2.8.0",
        chartRepository: "https://charts.example.internal",
        values: { webhook: { replicaCount: 2 }, installCRDs: true },
        deletedWith,
      },
      { provider },
    );
    await settle();
  });

  it("registers exactly a component, a Namespace and a Release per instance", () => {
    assert.equal(harness.get("castle:index:ExternalSecrets", "eso").custom, false);
    assert.deepEqual(
      harness.ofType("kubernetes:core/v1:Namespace").map((r) => r.name),
      ["eso-namespace", "custom-namespace"],
    );
    assert.deepEqual(
      harness.ofType("kubernetes:helm.sh/v3:Release").map((r) => r.name),
      ["eso-release", "custom-release"],
    );
  });

  it("parents the children on the component and passes the provider down", () => {
    for (const [type, name] of [
      ["kubernetes:core/v1:Namespace", "eso-namespace"],
      ["kubernetes:helm.sh/v3:Release", "eso-release"],
    ] as const) {
      const child = harness.get(type, name);
      assert.equal(child.parent, "castle:index:ExternalSecrets::eso");
      assert.match(child.provider ?? "", /::pulumi:providers:kubernetes::cluster::/);
    }
  });

  it("deletes the namespace and the release with the cluster, never through the API on destroy", () => {
    const lifetime = harness.get("test:index:Lifetime", "cluster-lifetime");
    for (const [type, name] of [
      ["kubernetes:core/v1:Namespace", "eso-namespace"],
      ["kubernetes:helm.sh/v3:Release", "eso-release"],
      ["kubernetes:core/v1:Namespace", "custom-namespace"],
      ["kubernetes:helm.sh/v3:Release", "custom-release"],
    ] as const) {
      assert.equal(harness.get(type, name).deletedWith, lifetime.urn, name);
    }
  });

  it("creates the namespace under its exact name", () => {
    assert.deepEqual(harness.get("kubernetes:core/v1:Namespace", "eso-namespace").inputs.metadata, {
      name: "external-secrets",
    });
  });

  it("installs the pinned chart from the default repository and waits for readiness", () => {
    const release = harness.get("kubernetes:helm.sh/v3:Release", "eso-release");
    const inputs = unwrapSecrets(release.inputs) as Record<string, unknown>;
    assert.equal(inputs.name, "external-secrets");
    assert.equal(inputs.chart, "external-secrets");
    assert.equal(inputs.version, "2.9.0");
    assert.deepEqual(inputs.repositoryOpts, { repo: "https://charts.external-secrets.io" });
    assert.equal(inputs.namespace, "external-secrets");
    assert.equal(inputs.createNamespace, false);
    assert.equal(inputs.skipAwait, false);
    assert.equal(inputs.atomic, true);
    assert.equal(inputs.cleanupOnFail, true);
    assert.equal(inputs.timeout, 600);
    assert.deepEqual(inputs.values, {
      installCRDs: true,
      crds: {
        createClusterSecretStore: true,
        createSecretStore: true,
        annotations: { "helm.sh/resource-policy": "keep" },
        conversion: { enabled: false },
      },
      processClusterStore: true,
      processSecretStore: true,
      webhook: { create: true, failurePolicy: "Fail", certManager: { enabled: false } },
      certController: { create: true },
    });
    assert.ok(harness.dependsOn(release, harness.get("kubernetes:core/v1:Namespace", "eso-namespace")));
  });

  it("takes the repository, version and extra values from args", () => {
    const inputs = unwrapSecrets(harness.get("kubernetes:helm.sh/v3:Release", "custom-release").inputs) as Record<
      string,
      unknown
    >;
    assert.equal(inputs.version, "2.8.0");
    assert.equal(inputs.namespace, "eso-custom");
    assert.deepEqual(inputs.repositoryOpts, { repo: "https://charts.example.internal" });
    assert.deepEqual((inputs.values as { webhook: unknown }).webhook, {
      create: true,
      failurePolicy: "Fail",
      certManager: { enabled: false },
      replicaCount: 2,
    });
  });

  it("hands over the namespace object and the release, the two things the store waits for", async () => {
    assert.equal(await resolved(component.namespaceResource.metadata.name), "external-secrets");
    assert.match(
      await resolved(component.release.urn),
      /::castle:index:ExternalSecrets\$kubernetes:helm\.sh\/v3:Release::eso-release$/,
    );
  });
});
