/**
 * Facts about the External Secrets Operator API, derived from the CRDs of ESO v2.9.0
 * (github.com/external-secrets/external-secrets at tag v2.9.0, config/crds/bases/
 * `external-secrets.io_clustersecretstores.yaml` and `external-secrets.io_externalsecrets.yaml`,
 * `spec.versions[name=v1].schema.openAPIV3Schema`), and a small structural validator built on them.
 *
 * The table covers every path the castle's manifests use, with the CRD's property names, required
 * fields, types, enums, patterns and length limits. Subtrees the castle never writes (other providers,
 * other Infisical auth methods, `dataFrom`, `target.template.templateFrom`, ...) are listed by name and accepted
 * unchecked. The CRDs do not set `additionalProperties: false` (the API server prunes unknown fields,
 * silently), but a field the API would drop is always a mistake here, so this checker reports it.
 * `metadata` is plain `type: object` in the CRDs; its facts come from Kubernetes ObjectMeta.
 */

export type Fact =
  | {
      type: "string";
      enum?: readonly string[];
      pattern?: RegExp;
      minLength?: number;
      maxLength?: number;
    }
  | { type: "integer" }
  | { type: "boolean" }
  /** `x-kubernetes-int-or-string`. */
  | { type: "int-or-string" }
  | { type: "array"; items: Fact; minItems?: number }
  | {
      type: "object";
      properties: Readonly<Record<string, Fact>>;
      required?: readonly string[];
      minProperties?: number;
      maxProperties?: number;
    }
  /** An object whose values all follow one fact (`additionalProperties: {...}`). */
  | { type: "map"; values: Fact }
  /** A subtree the castle does not write: its type is checked, its content is not. */
  | { type: "unchecked"; of: "object" | "array" };

/** What the API group serves, per kind (`spec.versions[]` of each CRD at v2.9.0). */
export const ESO_CRD_VERSIONS = {
  ClusterSecretStore: { scope: "Cluster", served: ["v1"], storage: "v1", notServed: ["v1beta1"] },
  ExternalSecret: { scope: "Namespaced", served: ["v1"], storage: "v1", notServed: ["v1beta1"] },
} as const;

export const ESO_CRD_SOURCE = "ESO v2.9.0 CRDs (external-secrets.io_{clustersecretstores,externalsecrets}.yaml)";

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

const string: Fact = { type: "string" };
const unchecked: Fact = { type: "unchecked", of: "object" };

/** ESO's `SecretKeySelector` (every auth credential reference); no field is schema-required. */
const secretKeySelector: Fact = {
  type: "object",
  properties: {
    key: { type: "string", minLength: 1, maxLength: 253, pattern: SECRET_KEY },
    name: { type: "string", minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN },
    namespace: { type: "string", minLength: 1, maxLength: 63, pattern: DNS_LABEL },
  },
};

/** Kubernetes ObjectMeta, the part a manifest writes. */
const metadata = (scope: "Cluster" | "Namespaced"): Fact => ({
  type: "object",
  properties: {
    name: { type: "string", minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN },
    ...(scope === "Namespaced"
      ? { namespace: { type: "string", minLength: 1, maxLength: 63, pattern: DNS_LABEL } }
      : {}),
    labels: { type: "map", values: string },
    annotations: { type: "map", values: string },
  },
  required: scope === "Namespaced" ? ["name", "namespace"] : ["name"],
});

/** `spec.provider` keys at v2.9.0: exactly one may be set (minProperties 1, maxProperties 1). */
const PROVIDERS = [
  "akeyless",
  "aws",
  "azurekv",
  "barbican",
  "beyondtrust",
  "beyondtrustworkloadcredentials",
  "bitwardensecretsmanager",
  "chef",
  "cloudrusm",
  "conjur",
  "crd",
  "delinea",
  "doppler",
  "dvls",
  "fake",
  "fortanix",
  "gcpsm",
  "github",
  "gitlab",
  "ibm",
  "infisical",
  "keepersecurity",
  "kubernetes",
  "nebiusmysterybox",
  "ngrok",
  "onboardbase",
  "onepassword",
  "onepasswordSDK",
  "openBao",
  "oracle",
  "ovh",
  "passbolt",
  "passworddepot",
  "previder",
  "pulumi",
  "scaleway",
  "secretserver",
  "senhasegura",
  "vault",
  "volcengine",
  "webhook",
  "yandexcertificatemanager",
  "yandexlockbox",
] as const;

const infisicalProvider: Fact = {
  type: "object",
  properties: {
    auth: {
      type: "object",
      properties: {
        universalAuthCredentials: {
          type: "object",
          properties: { clientId: secretKeySelector, clientSecret: secretKeySelector },
          required: ["clientId", "clientSecret"],
        },
        awsAuthCredentials: unchecked,
        azureAuthCredentials: unchecked,
        gcpIamAuthCredentials: unchecked,
        gcpIdTokenAuthCredentials: unchecked,
        jwtAuthCredentials: unchecked,
        kubernetesAuthCredentials: unchecked,
        ldapAuthCredentials: unchecked,
        ociAuthCredentials: unchecked,
        tokenAuthCredentials: unchecked,
      },
    },
    caBundle: string,
    caProvider: unchecked,
    /** CRD default `https://app.infisical.com/api`. */
    hostAPI: string,
    secretsScope: {
      type: "object",
      properties: {
        environmentSlug: string,
        expandSecretReferences: { type: "boolean" },
        organizationSlug: string,
        projectSlug: string,
        recursive: { type: "boolean" },
        secretsPath: string,
      },
      required: ["environmentSlug", "projectSlug"],
    },
  },
  required: ["auth", "secretsScope"],
};

export const CLUSTER_SECRET_STORE_FACTS: Fact = {
  type: "object",
  properties: {
    apiVersion: string,
    kind: string,
    metadata: metadata("Cluster"),
    spec: {
      type: "object",
      properties: {
        conditions: {
          type: "array",
          items: {
            type: "object",
            properties: {
              namespaceRegexes: { type: "array", items: string },
              namespaceSelector: unchecked,
              namespaces: {
                type: "array",
                items: { type: "string", minLength: 1, maxLength: 63, pattern: DNS_LABEL },
              },
            },
          },
        },
        controller: string,
        provider: {
          type: "object",
          properties: Object.fromEntries(PROVIDERS.map((p) => [p, p === "infisical" ? infisicalProvider : unchecked])),
          minProperties: 1,
          maxProperties: 1,
        },
        /** int-or-string since ESO 2.8.0 (integer seconds only before). */
        refreshInterval: { type: "int-or-string" },
        retrySettings: {
          type: "object",
          properties: { maxRetries: { type: "integer" }, retryInterval: string },
        },
      },
      required: ["provider"],
    },
    status: unchecked,
  },
};

export const EXTERNAL_SECRET_FACTS: Fact = {
  type: "object",
  properties: {
    apiVersion: string,
    kind: string,
    metadata: metadata("Namespaced"),
    spec: {
      type: "object",
      properties: {
        data: {
          type: "array",
          items: {
            type: "object",
            properties: {
              remoteRef: {
                type: "object",
                properties: {
                  conversionStrategy: { type: "string", enum: ["Default", "Unicode"] },
                  decodingStrategy: { type: "string", enum: ["Auto", "Base64", "Base64URL", "None"] },
                  key: string,
                  metadataPolicy: { type: "string", enum: ["None", "Fetch"] },
                  nullBytePolicy: { type: "string", enum: ["Ignore", "Fail"] },
                  property: string,
                  version: string,
                },
                required: ["key"],
              },
              secretKey: { type: "string", minLength: 1, maxLength: 253, pattern: SECRET_KEY },
              sourceRef: unchecked,
            },
            required: ["remoteRef", "secretKey"],
          },
        },
        dataFrom: { type: "unchecked", of: "array" },
        /** Go duration; CRD default `1h0m0s`. */
        refreshInterval: string,
        refreshPolicy: { type: "string", enum: ["CreatedOnce", "Periodic", "OnChange"] },
        secretStoreRef: {
          type: "object",
          properties: {
            kind: { type: "string", enum: ["SecretStore", "ClusterSecretStore"] },
            name: { type: "string", minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN },
          },
        },
        syncWindows: unchecked,
        target: {
          type: "object",
          properties: {
            creationPolicy: { type: "string", enum: ["Owner", "Orphan", "Merge", "None", "CreateOrMerge"] },
            deletionPolicy: { type: "string", enum: ["Delete", "Merge", "Retain"] },
            immutable: { type: "boolean" },
            manifest: unchecked,
            name: { type: "string", minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN },
            template: {
              type: "object",
              properties: {
                /** Values are Go templates over the `data[].secretKey` names. */
                data: { type: "map", values: string },
                engineVersion: { type: "string", enum: ["v2"] },
                mergePolicy: { type: "string", enum: ["Replace", "Merge"] },
                metadata: {
                  type: "object",
                  properties: {
                    annotations: { type: "map", values: string },
                    finalizers: { type: "array", items: string },
                    labels: { type: "map", values: string },
                  },
                },
                templateFrom: { type: "unchecked", of: "array" },
                /** The Secret's type, e.g. `Opaque`. */
                type: string,
              },
            },
          },
        },
      },
    },
    status: unchecked,
  },
};

const FACTS_BY_KIND: Record<keyof typeof ESO_CRD_VERSIONS, Fact> = {
  ClusterSecretStore: CLUSTER_SECRET_STORE_FACTS,
  ExternalSecret: EXTERNAL_SECRET_FACTS,
};

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeOf(value) === "object";
}

/**
 * Appends to `problems` every way `value` departs from `fact` (unknown field, missing required field,
 * wrong type, enum, pattern, length, item and property counts), each prefixed with its `path`.
 */
export function walk(value: unknown, fact: Fact, path: string, problems: string[]): void {
  const actual = typeOf(value);
  const wrongType = (expected: string) => problems.push(`${path}: expected ${expected}, got ${actual}`);
  switch (fact.type) {
    case "string": {
      if (typeof value !== "string") return void wrongType("string");
      if (fact.enum && !fact.enum.includes(value)) {
        problems.push(`${path}: "${value}" is not one of ${fact.enum.join(", ")}`);
      }
      if (fact.minLength !== undefined && value.length < fact.minLength) {
        problems.push(`${path}: shorter than ${fact.minLength} characters`);
      }
      if (fact.maxLength !== undefined && value.length > fact.maxLength) {
        problems.push(`${path}: longer than ${fact.maxLength} characters`);
      }
      if (fact.pattern && !fact.pattern.test(value))
        problems.push(`${path}: "${value}" does not match ${fact.pattern}`);
      return;
    }
    case "integer":
    case "boolean":
      if (actual !== fact.type) wrongType(fact.type);
      return;
    case "int-or-string":
      if (actual !== "integer" && actual !== "string") wrongType("integer or string");
      return;
    case "unchecked":
      if (actual !== fact.of) wrongType(fact.of);
      return;
    case "map":
      if (!isRecord(value)) return void wrongType("object");
      for (const [key, item] of Object.entries(value)) walk(item, fact.values, `${path}.${key}`, problems);
      return;
    case "array":
      if (!Array.isArray(value)) return void wrongType("array");
      if (fact.minItems !== undefined && value.length < fact.minItems) {
        problems.push(`${path}: fewer than ${fact.minItems} items`);
      }
      value.forEach((item, i) => {
        walk(item, fact.items, `${path}[${i}]`, problems);
      });
      return;
    case "object": {
      if (!isRecord(value)) return void wrongType("object");
      const allowed = Object.keys(fact.properties);
      for (const [key, item] of Object.entries(value)) {
        const child = fact.properties[key];
        if (child) walk(item, child, `${path}.${key}`, problems);
        else problems.push(`${path}.${key}: unknown field (known: ${allowed.join(", ")})`);
      }
      for (const key of fact.required ?? []) {
        if (!(key in value)) problems.push(`${path}.${key}: required field missing`);
      }
      const count = Object.keys(value).length;
      if (fact.minProperties !== undefined && count < fact.minProperties) {
        problems.push(`${path}: needs at least ${fact.minProperties} field(s)`);
      }
      if (fact.maxProperties !== undefined && count > fact.maxProperties) {
        problems.push(`${path}: allows at most ${fact.maxProperties} field(s), has ${count}`);
      }
      return;
    }
  }
}

/**
 * The problems of one `external-secrets.io` manifest (a ClusterSecretStore or an ExternalSecret)
 * against the ESO v2.9.0 CRDs: an apiVersion that is not served, an unknown kind, an unknown field,
 * a missing required field, a wrong type, a value outside an enum or pattern. Empty when valid.
 * Each problem starts with `<Kind> <name>:` and gives the field path.
 */
export function checkAgainstEsoCrd(manifest: unknown): string[] {
  if (!isRecord(manifest)) return [`manifest: expected object, got ${typeOf(manifest)}`];
  const kind = manifest.kind;
  const name = isRecord(manifest.metadata) ? String(manifest.metadata.name ?? "(no name)") : "(no metadata)";
  const label = `${typeof kind === "string" ? kind : "(no kind)"} ${name}`;
  if (kind !== "ClusterSecretStore" && kind !== "ExternalSecret") {
    return [`${label}: kind must be ClusterSecretStore or ExternalSecret (${ESO_CRD_SOURCE})`];
  }
  const problems: string[] = [];
  const versions = ESO_CRD_VERSIONS[kind];
  const [group, version] = String(manifest.apiVersion).split("/");
  if (group !== "external-secrets.io" || !(versions.served as readonly string[]).includes(version ?? "")) {
    problems.push(
      `apiVersion: "${String(manifest.apiVersion)}" is not served; ESO 2.9.0 serves external-secrets.io/${versions.served.join(", ")}`,
    );
  }
  walk(manifest, FACTS_BY_KIND[kind], "", problems);
  if (kind === "ClusterSecretStore" && isRecord(manifest.metadata) && "namespace" in manifest.metadata) {
    // Reported as an unknown field by the walk already; say why.
    problems.push(".metadata.namespace: ClusterSecretStore is cluster-scoped");
  }
  return problems.map((p) => `${label}: ${p.replace(/^\./, "")}`);
}
