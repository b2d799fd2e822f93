/**
 * Facts about the External Secrets Operator API, derived from the CRDs of ESO v2.9.0
 * (github.com/external-secrets/external-secrets at tag v2.9.0, config/crds/bases/
 * `external-secrets.io_clustersecretstores.yaml`, `external-secrets.io_secretstores.yaml` (the same spec
 * schema, namespaced) and `external-secrets.io_externalsecrets.yaml`,
 * `spec.versions[name=v1].schema.openAPIV3Schema`), checked by the engine of schema-check.ts.
 *
 * The table covers every path the castle's manifests use, with the CRD's property names, required
 * fields, types, enums, patterns and length limits. Subtrees the castle never writes (other providers,
 * other Infisical auth methods, `dataFrom`, `target.template.templateFrom`, ...) are listed by name and accepted
 * unchecked. The CRDs do not set `additionalProperties: false` (the API server prunes unknown fields,
 * silently), but a field the API would drop is always a mistake here, so this checker reports it.
 * `metadata` is plain `type: object` in the CRDs; its facts come from Kubernetes ObjectMeta.
 */

import {
  DNS_LABEL,
  DNS_SUBDOMAIN,
  type Fact,
  isRecord,
  labelled,
  manifestLabel,
  typeOf,
  unservedApiVersion,
  walk,
} from "./schema-check";

/** What the API group serves, per kind (`spec.versions[]` of each CRD at v2.9.0). */
export const ESO_CRD_VERSIONS = {
  ClusterSecretStore: { scope: "Cluster", served: ["v1"], storage: "v1", notServed: ["v1beta1"] },
  SecretStore: { scope: "Namespaced", served: ["v1"], storage: "v1", notServed: ["v1beta1"] },
  ExternalSecret: { scope: "Namespaced", served: ["v1"], storage: "v1", notServed: ["v1beta1"] },
} as const;

export const ESO_CRD_SOURCE =
  "ESO v2.9.0 CRDs (external-secrets.io_{clustersecretstores,secretstores,externalsecrets}.yaml)";

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

/** A SecretStore: the ClusterSecretStore's spec (one Go type, SecretStoreSpec), namespaced metadata. */
export const SECRET_STORE_FACTS: Fact = {
  ...CLUSTER_SECRET_STORE_FACTS,
  properties: {
    ...(CLUSTER_SECRET_STORE_FACTS as { properties: Record<string, Fact> }).properties,
    metadata: metadata("Namespaced"),
  },
} as Fact;

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
  SecretStore: SECRET_STORE_FACTS,
  ExternalSecret: EXTERNAL_SECRET_FACTS,
};

/**
 * The problems of one `external-secrets.io` manifest (a ClusterSecretStore or an ExternalSecret)
 * against the ESO v2.9.0 CRDs: an apiVersion that is not served, an unknown kind, an unknown field,
 * a missing required field, a wrong type, a value outside an enum or pattern. Empty when valid.
 * Each problem starts with `<Kind> <name>:` and gives the field path.
 */
export function checkAgainstEsoCrd(manifest: unknown): string[] {
  if (!isRecord(manifest)) return [`manifest: expected object, got ${typeOf(manifest)}`];
  const kind = manifest.kind;
  const label = manifestLabel(manifest);
  if (kind !== "ClusterSecretStore" && kind !== "SecretStore" && kind !== "ExternalSecret") {
    return [`${label}: kind must be ClusterSecretStore, SecretStore or ExternalSecret (${ESO_CRD_SOURCE})`];
  }
  const problems: string[] = [];
  const apiVersion = unservedApiVersion(
    manifest.apiVersion,
    { group: "external-secrets.io", served: ESO_CRD_VERSIONS[kind].served },
    "ESO 2.9.0",
  );
  if (apiVersion) problems.push(apiVersion);
  walk(manifest, FACTS_BY_KIND[kind], "", problems);
  if (kind === "ClusterSecretStore" && isRecord(manifest.metadata) && "namespace" in manifest.metadata) {
    // Reported as an unknown field by the walk already; say why.
    problems.push(".metadata.namespace: ClusterSecretStore is cluster-scoped");
  }
  return labelled(label, problems);
}
