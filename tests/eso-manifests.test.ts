import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ExternalSecretSpec } from "../lib/eso-manifests";
import {
  awaitingReady,
  type ClusterSecretStoreInput,
  clusterSecretStoreManifest,
  ESO_API_VERSION,
  esoHelmValues,
  externalSecretManifest,
  mergeHelmValues,
  namespacesToCreate,
  readyAwaitAnnotations,
  secretStoreManifest,
} from "../lib/eso-manifests";
import { checkAgainstEsoCrd } from "./support/eso-crd-facts";

const storeInput: ClusterSecretStoreInput = {
  name: "infisical",
  hostAPI: "https://eu.infisical.com",
  projectSlug: "castle-prod",
  environmentSlug: "prod",
  secretsPath: "/",
  credentialsSecret: {
    name: "infisical-credentials",
    namespace: "external-secrets",
    clientIdKey: "clientId",
    clientSecretKey: "clientSecret",
  },
  allowedNamespaces: ["apps", "monitoring"],
};

const esSpec = (over: Partial<ExternalSecretSpec> = {}): ExternalSecretSpec => ({
  name: "db",
  namespace: "apps",
  keys: ["DB_PASSWORD"],
  refreshInterval: "1h",
  ...over,
});

/** A deep copy that can be broken on purpose. */
const copy = <T>(value: T): T => structuredClone(value) as T;

describe("secretStoreManifest", () => {
  const input = {
    name: "flux-git",
    namespace: "flux-system",
    hostAPI: "https://eu.infisical.com/",
    projectSlug: "castle-prod",
    environmentSlug: "prod",
    secretsPath: "/gitops/blue",
    credentialsSecret: { name: "flux-git-infisical", clientIdKey: "clientId", clientSecretKey: "clientSecret" },
  };

  it("a namespaced store whose credentials are read in its own namespace (no namespace in the selectors)", () => {
    const manifest = secretStoreManifest(input);
    assert.deepEqual(checkAgainstEsoCrd(manifest), []);
    assert.deepEqual(manifest.metadata, { name: "flux-git", namespace: "flux-system" });
    assert.equal("conditions" in manifest.spec, false, "a SecretStore serves its own namespace alone");
    assert.deepEqual(manifest.spec.provider.infisical.auth.universalAuthCredentials, {
      clientId: { name: "flux-git-infisical", key: "clientId" },
      clientSecret: { name: "flux-git-infisical", key: "clientSecret" },
    });
    assert.equal(manifest.spec.provider.infisical.hostAPI, "https://eu.infisical.com");
  });

  it("refuses a name or namespace that is no DNS label, and an empty scope", () => {
    assert.throws(
      () => secretStoreManifest({ ...input, namespace: "Flux_System" }),
      /SecretStore namespace "Flux_System"/,
    );
    assert.throws(() => secretStoreManifest({ ...input, name: "" }), /SecretStore name ""/);
    assert.throws(
      () => secretStoreManifest({ ...input, secretsPath: "" }),
      /SecretStore "flux-git": secretsPath is empty/,
    );
  });
});

describe("clusterSecretStoreManifest", () => {
  it("builds the Infisical ClusterSecretStore with exact fields", () => {
    assert.deepEqual(clusterSecretStoreManifest(storeInput), {
      apiVersion: "external-secrets.io/v1",
      kind: "ClusterSecretStore",
      metadata: { name: "infisical" },
      spec: {
        conditions: [{ namespaces: ["apps", "monitoring"] }],
        provider: {
          infisical: {
            hostAPI: "https://eu.infisical.com",
            auth: {
              universalAuthCredentials: {
                clientId: { name: "infisical-credentials", namespace: "external-secrets", key: "clientId" },
                clientSecret: { name: "infisical-credentials", namespace: "external-secrets", key: "clientSecret" },
              },
            },
            secretsScope: { projectSlug: "castle-prod", environmentSlug: "prod", secretsPath: "/" },
          },
        },
      },
    });
  });

  const cases: { title: string; input: Partial<ClusterSecretStoreInput>; hostAPI: string; namespaces: string[] }[] = [
    { title: "defaults", input: {}, hostAPI: "https://eu.infisical.com", namespaces: ["apps", "monitoring"] },
    {
      title: "trailing slashes dropped",
      input: { hostAPI: "https://infisical.example.internal/api//" },
      hostAPI: "https://infisical.example.internal/api",
      namespaces: ["apps", "monitoring"],
    },
    {
      title: "repeated namespaces listed once",
      input: { allowedNamespaces: ["apps", "apps", "web"] },
      hostAPI: "https://eu.infisical.com",
      namespaces: ["apps", "web"],
    },
    {
      title: "one namespace",
      input: { allowedNamespaces: ["a"] },
      hostAPI: "https://eu.infisical.com",
      namespaces: ["a"],
    },
  ];
  for (const c of cases) {
    it(`${c.title}: hostAPI and conditions, and the manifest matches the CRD`, () => {
      const manifest = clusterSecretStoreManifest({ ...storeInput, ...c.input });
      assert.equal(manifest.spec.provider.infisical.hostAPI, c.hostAPI);
      assert.deepEqual(manifest.spec.conditions, [{ namespaces: c.namespaces }]);
      assert.deepEqual(checkAgainstEsoCrd(manifest), []);
    });
  }

  const refusals: { title: string; input: Partial<ClusterSecretStoreInput>; message: RegExp }[] = [
    { title: "no allowed namespace", input: { allowedNamespaces: [] }, message: /allowedNamespaces is empty/ },
    {
      title: "namespace not a DNS label",
      input: { allowedNamespaces: ["Apps"] },
      message: /allowedNamespaces entry "Apps" is not a DNS label/,
    },
    { title: "store name not a DNS label", input: { name: "my_store" }, message: /ClusterSecretStore name "my_store"/ },
    { title: "empty project slug", input: { projectSlug: "" }, message: /"infisical": projectSlug is empty/ },
  ];
  for (const r of refusals) {
    it(`refuses: ${r.title}`, () => {
      assert.throws(() => clusterSecretStoreManifest({ ...storeInput, ...r.input }), r.message);
    });
  }
});

describe("externalSecretManifest", () => {
  it("builds the ExternalSecret with exact fields", () => {
    assert.deepEqual(externalSecretManifest(esSpec({ keys: ["DB_PASSWORD", "DB_USER"] }), "infisical"), {
      apiVersion: ESO_API_VERSION,
      kind: "ExternalSecret",
      metadata: { name: "db", namespace: "apps" },
      spec: {
        refreshInterval: "1h",
        secretStoreRef: { kind: "ClusterSecretStore", name: "infisical" },
        target: { name: "db", creationPolicy: "Owner" },
        data: [
          { secretKey: "DB_PASSWORD", remoteRef: { key: "DB_PASSWORD" } },
          { secretKey: "DB_USER", remoteRef: { key: "DB_USER" } },
        ],
      },
    });
  });

  const cases: { title: string; spec: ExternalSecretSpec; target: string; keys: string[]; refresh: string }[] = [
    { title: "target defaults to name", spec: esSpec(), target: "db", keys: ["DB_PASSWORD"], refresh: "1h" },
    {
      title: "explicit target and refresh",
      spec: esSpec({ targetSecret: "db-creds", refreshInterval: "15m" }),
      target: "db-creds",
      keys: ["DB_PASSWORD"],
      refresh: "15m",
    },
    {
      title: "keys with dots and dashes",
      spec: esSpec({ keys: ["tls.crt", "api-key", "A_B"] }),
      target: "db",
      keys: ["tls.crt", "api-key", "A_B"],
      refresh: "1h",
    },
  ];
  for (const c of cases) {
    it(`${c.title}, and the manifest matches the CRD`, () => {
      const manifest = externalSecretManifest(c.spec, "infisical");
      assert.equal(manifest.spec.target.name, c.target);
      assert.equal(manifest.spec.refreshInterval, c.refresh);
      assert.deepEqual(
        manifest.spec.data.map((d) => [d.secretKey, d.remoteRef.key]),
        c.keys.map((k) => [k, k]),
      );
      assert.deepEqual(checkAgainstEsoCrd(manifest), []);
    });
  }

  it("refuses a key listed twice, naming the ExternalSecret and the key", () => {
    assert.throws(
      () => externalSecretManifest(esSpec({ keys: ["A", "B", "A"] }), "infisical"),
      /ExternalSecret "db" \(namespace "apps"\) lists the key\(s\) A more than once/,
    );
  });
});

describe("esoHelmValues", () => {
  const values = esoHelmValues() as {
    installCRDs: boolean;
    crds: { createClusterSecretStore: boolean; conversion: { enabled: boolean } };
    processClusterStore: boolean;
    webhook: { create: boolean; failurePolicy: string; certManager: { enabled: boolean } };
    certController: { create: boolean };
  };

  it("installs the CRDs with the chart, the ClusterSecretStore's included, and lets the controller serve cluster stores", () => {
    assert.equal(values.installCRDs, true);
    assert.equal(values.crds.createClusterSecretStore, true);
    assert.equal(values.processClusterStore, true);
  });

  it("keeps the admission webhook failing closed, with the chart's own cert controller (no cert-manager needed)", () => {
    assert.equal(values.webhook.create, true);
    assert.equal(values.webhook.failurePolicy, "Fail");
    assert.equal(values.webhook.certManager.enabled, false);
    assert.equal(values.certController.create, true);
  });

  it("turns the CRD conversion webhook off (v1 is the only served version)", () => {
    assert.equal(values.crds.conversion.enabled, false);
  });

  it("merges overrides key by key and replaces arrays and scalars", () => {
    const merged = mergeHelmValues(
      { installCRDs: true, webhook: { create: true, failurePolicy: "Fail" }, tolerations: [{ key: "a" }] },
      { webhook: { replicaCount: 2 }, tolerations: [], replicaCount: 2 },
    );
    assert.deepEqual(merged, {
      installCRDs: true,
      webhook: { create: true, failurePolicy: "Fail", replicaCount: 2 },
      tolerations: [],
      replicaCount: 2,
    });
    assert.deepEqual(mergeHelmValues({ a: 1 }, undefined), { a: 1 });
  });
});

describe("checkAgainstEsoCrd can fail", () => {
  const store = clusterSecretStoreManifest(storeInput);
  const es = externalSecretManifest(esSpec(), "infisical");

  const broken: { title: string; manifest: () => unknown; problems: string[] }[] = [
    {
      title: "unknown field (a renamed auth block)",
      manifest: () => {
        const m = copy(store) as unknown as { spec: { provider: { infisical: { auth: Record<string, unknown> } } } };
        m.spec.provider.infisical.auth = { universalAuth: m.spec.provider.infisical.auth.universalAuthCredentials };
        return m;
      },
      problems: [
        "ClusterSecretStore infisical: spec.provider.infisical.auth.universalAuth: unknown field (known: universalAuthCredentials, awsAuthCredentials, azureAuthCredentials, gcpIamAuthCredentials, gcpIdTokenAuthCredentials, jwtAuthCredentials, kubernetesAuthCredentials, ldapAuthCredentials, ociAuthCredentials, tokenAuthCredentials)",
      ],
    },
    {
      title: "missing required field",
      manifest: () => {
        const m = copy(store) as unknown as {
          spec: { provider: { infisical: { secretsScope: Record<string, unknown> } } };
        };
        delete m.spec.provider.infisical.secretsScope.projectSlug;
        return m;
      },
      problems: [
        "ClusterSecretStore infisical: spec.provider.infisical.secretsScope.projectSlug: required field missing",
      ],
    },
    {
      title: "wrong type",
      manifest: () => ({ ...copy(es), spec: { ...copy(es).spec, data: { secretKey: "A" } } }),
      problems: ["ExternalSecret db: spec.data: expected array, got object"],
    },
    {
      title: "value outside the enum",
      manifest: () => ({
        ...copy(es),
        spec: { ...copy(es).spec, secretStoreRef: { kind: "Store", name: "infisical" } },
      }),
      problems: ['ExternalSecret db: spec.secretStoreRef.kind: "Store" is not one of SecretStore, ClusterSecretStore'],
    },
    {
      title: "v1beta1 is no longer served",
      manifest: () => ({ ...copy(es), apiVersion: "external-secrets.io/v1beta1" }),
      problems: [
        'ExternalSecret db: apiVersion: "external-secrets.io/v1beta1" is not served; ESO 2.9.0 serves external-secrets.io/v1',
      ],
    },
    {
      title: "two providers",
      manifest: () => {
        const m = copy(store) as unknown as { spec: { provider: Record<string, unknown> } };
        m.spec.provider.fake = {};
        return m;
      },
      problems: ["ClusterSecretStore infisical: spec.provider: allows at most 1 field(s), has 2"],
    },
    {
      title: "a namespace on the cluster-scoped store, a pattern violation",
      manifest: () => {
        const m = copy(store) as unknown as {
          metadata: Record<string, unknown>;
          spec: { conditions: { namespaces: string[] }[] };
        };
        m.metadata.namespace = "default";
        m.spec.conditions[0]?.namespaces.push("Not_A_Label");
        return m;
      },
      problems: [
        "ClusterSecretStore infisical: metadata.namespace: unknown field (known: name, labels, annotations)",
        'ClusterSecretStore infisical: spec.conditions[0].namespaces[2]: "Not_A_Label" does not match /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/',
        "ClusterSecretStore infisical: metadata.namespace: ClusterSecretStore is cluster-scoped",
      ],
    },
    {
      title: "an ExternalSecret without namespace",
      manifest: () => ({ ...copy(es), metadata: { name: "db" } }),
      problems: ["ExternalSecret db: metadata.namespace: required field missing"],
    },
    {
      title: "another kind",
      manifest: () => ({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" } }),
      problems: [
        "Secret s: kind must be ClusterSecretStore, SecretStore or ExternalSecret (ESO v2.9.0 CRDs (external-secrets.io_{clustersecretstores,secretstores,externalsecrets}.yaml))",
      ],
    },
  ];
  for (const b of broken) {
    it(`reports ${b.title}`, () => {
      assert.deepEqual(checkAgainstEsoCrd(b.manifest()), b.problems);
    });
  }
});

describe("readyAwaitAnnotations and awaitingReady", () => {
  it("waits for condition Ready, for the given whole seconds", () => {
    assert.deepEqual(readyAwaitAnnotations(300), {
      "pulumi.com/waitFor": "condition=Ready",
      "pulumi.com/timeoutSeconds": "300",
    });
    for (const bad of [0, -5, 1.5, Number.NaN]) {
      assert.throws(() => readyAwaitAnnotations(bad), /must be a whole number of seconds greater than 0/, String(bad));
    }
  });

  it("adds the annotations to a manifest, keeping the others and the rest of it", () => {
    const es = externalSecretManifest(esSpec(), "infisical");
    const awaited = awaitingReady({ ...es, metadata: { ...es.metadata, annotations: { team: "ops" } } }, 120);
    assert.deepEqual(awaited.metadata, {
      name: es.metadata.name,
      namespace: es.metadata.namespace,
      annotations: { team: "ops", "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "120" },
    });
    assert.deepEqual(awaited.spec, es.spec);
    assert.equal(es.metadata.annotations, undefined, "the input manifest is not changed");
    assert.deepEqual(checkAgainstEsoCrd(awaitingReady(clusterSecretStoreManifest(storeInput), 60)), []);
  });
});

describe("namespacesToCreate", () => {
  it("lists each allowed or used namespace once, sorted, without the built-in ones and the excluded", () => {
    assert.deepEqual(
      namespacesToCreate(
        ["monitoring", "apps", "kube-system", "external-secrets", "default"],
        ["apps", "monitoring", "kube-public"],
        ["external-secrets"],
      ),
      ["apps", "monitoring"],
    );
    assert.deepEqual(namespacesToCreate(["apps"], ["extra"]), ["apps", "extra"]);
    assert.deepEqual(namespacesToCreate([], []), []);
  });
});
