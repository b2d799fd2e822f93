import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import type { InfisicalStoreArgs } from "../components/infisical-store";
import { checkAgainstEsoCrd } from "./support/eso-crd-facts";
import {
  isSecretMarked,
  plaintextOccurrences,
  resolved,
  settle,
  startMocks,
  unwrapSecrets,
} from "./support/pulumi-mocks";

const harness = startMocks();

const CLIENT_ID = "client-id-0f3b7c";
const CLIENT_SECRET = "client-secret-9d41aa";

/** Stands in for the ESO Helm release the store is ordered after. */
class Release extends pulumi.CustomResource {
  constructor(name: string) {
    super("test:index:Release", name, {});
  }
}

/** Stands in for the resource that lives as long as the cluster (the Talos machine secrets). */
class Lifetime extends pulumi.CustomResource {
  constructor(name: string) {
    super("test:index:Lifetime", name, {});
  }
}

const baseArgs = (): Omit<InfisicalStoreArgs, "operator" | "operatorNamespace" | "deletedWith"> => ({
  namespace: "external-secrets",
  storeName: "infisical",
  hostAPI: "https://eu.infisical.com",
  projectSlug: "castle-prod",
  environmentSlug: "prod",
  secretsPath: "/castle",
  allowedNamespaces: ["apps", "monitoring"],
  clientId: pulumi.secret(CLIENT_ID),
  clientSecret: pulumi.secret(CLIENT_SECRET),
  externalSecrets: [
    { name: "db", namespace: "apps", keys: ["DB_PASSWORD", "DB_USER"], refreshInterval: "1h" },
    { name: "grafana", namespace: "monitoring", targetSecret: "grafana-admin", keys: ["ADMIN"], refreshInterval: "5m" },
  ],
  readyTimeoutSeconds: 240,
});

const CSS = "kubernetes:external-secrets.io/v1:ClusterSecretStore";
const ES = "kubernetes:external-secrets.io/v1:ExternalSecret";
const SECRET = "kubernetes:core/v1:Secret";
const NS = "kubernetes:core/v1:Namespace";

describe("InfisicalStore", () => {
  let component: import("../components/infisical-store").InfisicalStore;
  let release: Release;
  let namespace: Release;
  let lifetime: Lifetime;
  let InfisicalStore: typeof import("../components/infisical-store").InfisicalStore;

  before(async () => {
    ({ InfisicalStore } = await import("../components/infisical-store"));
    release = new Release("eso-release");
    namespace = new Release("eso-namespace");
    lifetime = new Lifetime("cluster-lifetime");
    component = new InfisicalStore("store", {
      ...baseArgs(),
      operator: release,
      operatorNamespace: namespace,
      deletedWith: lifetime,
    });
    // The operator's own namespace and a built-in one are allowed: neither is created here.
    new InfisicalStore("own", {
      ...baseArgs(),
      storeName: "own",
      allowedNamespaces: ["external-secrets", "kube-system", "apps"],
      externalSecrets: [
        { name: "self", namespace: "external-secrets", keys: ["X"], refreshInterval: "1h" },
        { name: "sys", namespace: "kube-system", keys: ["Y"], refreshInterval: "1h" },
      ],
      operator: release,
      operatorNamespace: namespace,
      deletedWith: lifetime,
    });
    await settle();
  });

  it("registers exactly one Secret, one ClusterSecretStore and one ExternalSecret per spec, under the component", () => {
    assert.equal(harness.get("castle:index:InfisicalStore", "store").custom, false);
    const children = harness.resources.filter((r) => r.parent === "castle:index:InfisicalStore::store");
    assert.deepEqual(children.map((r) => `${r.type}::${r.name}`).sort(), [
      `${NS}::store-namespace-apps`,
      `${NS}::store-namespace-monitoring`,
      `${SECRET}::store-credentials`,
      `${CSS}::store-store`,
      `${ES}::store-apps/db`,
      `${ES}::store-monitoring/grafana`,
    ]);
  });

  it("keeps the credentials secret-marked in the Secret and nowhere in plaintext", () => {
    const secret = harness.get(SECRET, "store-credentials");
    assert.deepEqual(secret.inputs.metadata, { name: "infisical-credentials", namespace: "external-secrets" });
    assert.equal(secret.inputs.type, "Opaque");
    assert.ok(isSecretMarked(secret.inputs.stringData), "stringData is secret");
    assert.deepEqual(unwrapSecrets(secret.inputs.stringData), { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    for (const r of harness.resources) {
      assert.deepEqual(plaintextOccurrences(r.inputs, CLIENT_ID), [], `${r.type} ${r.name}`);
      assert.deepEqual(plaintextOccurrences(r.inputs, CLIENT_SECRET), [], `${r.type} ${r.name}`);
    }
  });

  it("builds the ClusterSecretStore on the Secret, limited to the allowed namespaces", () => {
    const store = harness.get(CSS, "store-store");
    const inputs = unwrapSecrets(store.inputs) as Record<string, unknown>;
    assert.deepEqual(checkAgainstEsoCrd(inputs), []);
    assert.equal(inputs.apiVersion, "external-secrets.io/v1");
    assert.equal(inputs.kind, "ClusterSecretStore");
    assert.deepEqual(inputs.metadata, {
      name: "infisical",
      annotations: { "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "240" },
    });
    const spec = inputs.spec as {
      conditions: unknown;
      provider: { infisical: { hostAPI: string; auth: unknown; secretsScope: unknown } };
    };
    assert.deepEqual(spec.conditions, [{ namespaces: ["apps", "monitoring"] }]);
    assert.equal(spec.provider.infisical.hostAPI, "https://eu.infisical.com");
    assert.deepEqual(spec.provider.infisical.secretsScope, {
      projectSlug: "castle-prod",
      environmentSlug: "prod",
      secretsPath: "/castle",
    });
    assert.deepEqual(spec.provider.infisical.auth, {
      universalAuthCredentials: {
        clientId: { name: "infisical-credentials", namespace: "external-secrets", key: "clientId" },
        clientSecret: { name: "infisical-credentials", namespace: "external-secrets", key: "clientSecret" },
      },
    });
    assert.ok(harness.dependsOn(store, harness.get(SECRET, "store-credentials")));
  });

  it("builds each ExternalSecret on the store", () => {
    const store = harness.get(CSS, "store-store");
    for (const name of ["store-apps/db", "store-monitoring/grafana"]) {
      const r = harness.get(ES, name);
      assert.deepEqual(checkAgainstEsoCrd(unwrapSecrets(r.inputs)), [], r.name);
      assert.ok(harness.dependsOn(r, store), r.name);
    }
    const grafana = unwrapSecrets(harness.get(ES, "store-monitoring/grafana").inputs) as {
      metadata: unknown;
      spec: unknown;
    };
    assert.deepEqual(grafana.metadata, {
      name: "grafana",
      namespace: "monitoring",
      annotations: { "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "240" },
    });
    assert.deepEqual(grafana.spec, {
      refreshInterval: "5m",
      secretStoreRef: { kind: "ClusterSecretStore", name: "infisical" },
      target: { name: "grafana-admin", creationPolicy: "Owner" },
      data: [{ secretKey: "ADMIN", remoteRef: { key: "ADMIN" } }],
    });
  });

  it("creates the credentials during the operator's install, and the store and ExternalSecrets after it", () => {
    const eso = harness.get("test:index:Release", "eso-release");
    const namespace = harness.get("test:index:Release", "eso-namespace");
    const credentials = harness.get(SECRET, "store-credentials");
    assert.deepEqual(credentials.dependencies, [namespace.urn]);
    assert.ok(!harness.dependsOn(credentials, eso), "the Secret needs only the namespace");
    for (const r of [...harness.ofType(CSS), ...harness.ofType(ES)]) assert.ok(harness.dependsOn(r, eso), r.name);
  });

  it("creates every namespace the store allows, and each ExternalSecret waits for its own", () => {
    for (const ns of ["apps", "monitoring"]) {
      assert.deepEqual(harness.get(NS, `store-namespace-${ns}`).inputs.metadata, { name: ns });
    }
    const apps = harness.get(NS, "store-namespace-apps");
    const monitoring = harness.get(NS, "store-namespace-monitoring");
    const db = harness.get(ES, "store-apps/db");
    const grafana = harness.get(ES, "store-monitoring/grafana");
    assert.ok(db.dependencies.includes(apps.urn));
    assert.ok(!harness.dependsOn(db, monitoring));
    assert.ok(grafana.dependencies.includes(monitoring.urn));
    assert.ok(!harness.dependsOn(grafana, apps));
    // Namespaces need only the cluster: they do not wait for the operator.
    assert.ok(!harness.dependsOn(apps, harness.get("test:index:Release", "eso-release")));
  });

  it("creates neither the operator's namespace nor a built-in one, and waits for the operator's", () => {
    assert.deepEqual(
      harness
        .ofType(NS)
        .filter((r) => r.parent === "castle:index:InfisicalStore::own")
        .map((r) => r.inputs.metadata),
      [{ name: "apps" }],
    );
    const self = harness.get(ES, "own-external-secrets/self");
    assert.ok(self.dependencies.includes(harness.get("test:index:Release", "eso-namespace").urn));
    const sys = harness.get(ES, "own-kube-system/sys");
    assert.deepEqual(
      sys.dependencies.filter((urn) => urn.includes("Namespace")),
      [],
      "kube-system exists on every cluster",
    );
  });

  it("waits for the store and every ExternalSecret to be Ready, for the given time", () => {
    const annotated = [...harness.ofType(CSS), ...harness.ofType(ES)];
    assert.equal(annotated.length, 2 + 4);
    for (const r of annotated) {
      const metadata = unwrapSecrets(r.inputs.metadata) as { annotations?: Record<string, string> };
      assert.deepEqual(
        metadata.annotations,
        { "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "240" },
        r.name,
      );
    }
    // Namespaces and the credentials Secret have no Ready condition: no waitFor on them.
    for (const r of [...harness.ofType(NS), ...harness.ofType(SECRET)]) {
      assert.equal((r.inputs.metadata as { annotations?: unknown }).annotations, undefined, r.name);
    }
  });

  it("deletes every object with the cluster", () => {
    const children = harness.resources.filter((r) => r.parent?.startsWith("castle:index:InfisicalStore::"));
    // store: 2 namespaces, the Secret, the store, 2 ExternalSecrets; own: 1 namespace, the Secret, the store, 2.
    assert.equal(children.length, 6 + 5);
    const target = harness.get("test:index:Lifetime", "cluster-lifetime");
    for (const r of children) assert.equal(r.deletedWith, target.urn, `${r.type} ${r.name}`);
  });

  it("outputs the store name as a plain string", () => {
    assert.equal(component.storeName, "infisical");
  });

  it("keeps the client secret out of the refusal message", () => {
    const args = baseArgs();
    args.allowedNamespaces = [];
    assert.throws(
      () =>
        new InfisicalStore("empty", {
          ...args,
          operator: release,
          operatorNamespace: namespace,
          deletedWith: lifetime,
        }),
      (error: Error) => !error.message.includes(CLIENT_SECRET) && !error.message.includes(CLIENT_ID),
    );
  });

  it("resolves the store name output of the component", async () => {
    assert.equal(await resolved(component.storeName), "infisical");
  });
});
