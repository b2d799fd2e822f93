/**
 * Pure builders of the External Secrets Operator objects the castle creates: the Infisical
 * ClusterSecretStore, the ExternalSecrets, and the Helm values of the operator chart.
 *
 * Field names follow the CRDs of ESO v2.9.0 (`external-secrets.io_clustersecretstores.yaml` and
 * `external-secrets.io_externalsecrets.yaml` at tag v2.9.0); tests check every manifest built here
 * against a table derived from those CRDs (tests/support/eso-crd-facts.ts).
 */
import { DNS_LABEL } from "./net";

/** One ExternalSecret of the stack (`castle:eso.externalSecrets[]`, defaults applied). */
export interface ExternalSecretSpec {
  /** Name of the ExternalSecret object. */
  name: string;
  /** Its namespace, one the store allows. */
  namespace: string;
  /** Name of the Kubernetes Secret ESO writes; `name` when absent. */
  targetSecret?: string;
  /** Infisical secret keys copied into the target Secret under the same key. */
  keys: string[];
  /** How often ESO refreshes it, e.g. `1h`. */
  refreshInterval: string;
}

/**
 * The only served version of the ESO API since ESO 0.17.0: `v1beta1` is still in the CRDs but
 * `served: false`, so a `v1beta1` manifest is rejected by the API server.
 */
export const ESO_API_VERSION = "external-secrets.io/v1";
/** Name of the chart in the External Secrets Operator Helm repository. */
export const ESO_CHART_NAME = "external-secrets";
/** The project's HTTP Helm repository that serves the chart. */
export const ESO_CHART_REPOSITORY = "https://charts.external-secrets.io";
/**
 * Helm release name. The chart names its objects after the release (`external-secrets-webhook`, ...),
 * so a fixed name keeps them stable and as the ESO documentation shows them.
 */
export const ESO_RELEASE_NAME = "external-secrets";

/** Keys of a store's Universal Auth credentials Secret (the names the ESO documentation uses). */
export const INFISICAL_CREDENTIALS_KEYS = { clientId: "clientId", clientSecret: "clientSecret" } as const;

/** A reference to one key of a Kubernetes Secret (ESO's `SecretKeySelector`). */
export interface SecretKeySelector {
  name: string;
  /** Required on a ClusterSecretStore: without it ESO looks in each ExternalSecret's namespace. */
  namespace: string;
  key: string;
}

/** The Kubernetes Secret holding the machine identity's Universal Auth credentials. */
export interface InfisicalCredentialsSecret {
  /** Name of the Secret. */
  name: string;
  /** Namespace of the Secret (the operator's namespace). */
  namespace: string;
  /** Key of the client id in the Secret. */
  clientIdKey: string;
  /** Key of the client secret in the Secret. */
  clientSecretKey: string;
}

export interface ClusterSecretStoreInput {
  /** Name of the ClusterSecretStore (cluster-scoped). */
  name: string;
  /** Infisical instance root, e.g. `https://eu.infisical.com` (ESO appends `/api` when missing). */
  hostAPI: string;
  /** Infisical project slug. */
  projectSlug: string;
  /** Infisical environment slug, e.g. `prod`. */
  environmentSlug: string;
  /** Folder the store reads from, absolute, e.g. `/`. */
  secretsPath: string;
  /** Where the Universal Auth credentials are. */
  credentialsSecret: InfisicalCredentialsSecret;
  /** The only namespaces whose ExternalSecrets may use the store (exact names). At least one. */
  allowedNamespaces: readonly string[];
}

export interface ClusterSecretStoreManifest {
  apiVersion: typeof ESO_API_VERSION;
  kind: "ClusterSecretStore";
  metadata: { name: string; annotations?: Record<string, string> };
  spec: {
    conditions: { namespaces: string[] }[];
    provider: {
      infisical: {
        hostAPI: string;
        auth: { universalAuthCredentials: { clientId: SecretKeySelector; clientSecret: SecretKeySelector } };
        secretsScope: { projectSlug: string; environmentSlug: string; secretsPath: string };
      };
    };
  };
}

/** The Kubernetes Secret, in the store's own namespace, holding a namespaced store's Universal Auth credentials. */
export interface LocalCredentialsSecret {
  name: string;
  clientIdKey: string;
  clientSecretKey: string;
}

export interface SecretStoreInput {
  /** Name of the SecretStore. */
  name: string;
  /** Its namespace: the only namespace whose ExternalSecrets can use it. */
  namespace: string;
  hostAPI: string;
  projectSlug: string;
  environmentSlug: string;
  /** Folder the store reads from, absolute. */
  secretsPath: string;
  /** Where the Universal Auth credentials are, in `namespace`. */
  credentialsSecret: LocalCredentialsSecret;
}

export interface SecretStoreManifest {
  apiVersion: typeof ESO_API_VERSION;
  kind: "SecretStore";
  metadata: { name: string; namespace: string; annotations?: Record<string, string> };
  spec: {
    provider: {
      infisical: {
        hostAPI: string;
        auth: {
          universalAuthCredentials: {
            clientId: { name: string; key: string };
            clientSecret: { name: string; key: string };
          };
        };
        secretsScope: { projectSlug: string; environmentSlug: string; secretsPath: string };
      };
    };
  };
}

/** A store's Infisical fields, each required non-empty (an empty one would make a store that never becomes Ready). */
function requireInfisicalFields(
  kind: "SecretStore" | "ClusterSecretStore",
  input: { name: string; hostAPI: string; projectSlug: string; environmentSlug: string; secretsPath: string },
): void {
  const { hostAPI, projectSlug, environmentSlug, secretsPath } = input;
  for (const [field, value] of Object.entries({ hostAPI, projectSlug, environmentSlug, secretsPath })) {
    if (value.length === 0) throw new Error(`${kind} "${input.name}": ${field} is empty`);
  }
}

/**
 * An Infisical SecretStore (Universal Auth): namespaced, so only ExternalSecrets of its own namespace
 * can use it, and its credentials Secret is read from that namespace too. The selectors carry no
 * `namespace`: ESO refuses one that names another namespace on a SecretStore (ESO v2.9.0
 * runtime/esutils/utils.go `ValidateReferentSecretSelector`, called by providers/v1/infisical/provider.go
 * `validateUniversalAuth`).
 */
export function secretStoreManifest(input: SecretStoreInput): SecretStoreManifest {
  requireDnsLabel(input.name, "SecretStore name");
  requireDnsLabel(input.namespace, "SecretStore namespace");
  requireInfisicalFields("SecretStore", input);
  const { name, clientIdKey, clientSecretKey } = input.credentialsSecret;
  return {
    apiVersion: ESO_API_VERSION,
    kind: "SecretStore",
    metadata: { name: input.name, namespace: input.namespace },
    spec: {
      provider: {
        infisical: {
          hostAPI: input.hostAPI.replace(/\/+$/, ""),
          auth: {
            universalAuthCredentials: {
              clientId: { name, key: clientIdKey },
              clientSecret: { name, key: clientSecretKey },
            },
          },
          secretsScope: {
            projectSlug: input.projectSlug,
            environmentSlug: input.environmentSlug,
            secretsPath: input.secretsPath,
          },
        },
      },
    },
  };
}

export interface ExternalSecretManifest {
  apiVersion: typeof ESO_API_VERSION;
  kind: "ExternalSecret";
  metadata: { name: string; namespace: string; annotations?: Record<string, string> };
  spec: {
    refreshInterval: string;
    secretStoreRef: { kind: "ClusterSecretStore"; name: string };
    target: { name: string; creationPolicy: "Owner" };
    data: { secretKey: string; remoteRef: { key: string } }[];
  };
}

function requireDnsLabel(value: string, what: string): void {
  if (!DNS_LABEL.test(value)) {
    throw new Error(
      `${what} "${value}" is not a DNS label: use lower-case letters, digits and '-', 1-63 characters, starting and ending with a letter or digit`,
    );
  }
}

/**
 * The Infisical ClusterSecretStore (Universal Auth), restricted by `spec.conditions` to
 * `allowedNamespaces`.
 *
 * The condition uses `namespaces` (exact names, matched by ESO on the `kubernetes.io/metadata.name`
 * label), not `namespaceRegexes`: ESO matches those regexes unanchored, and exact names need no escaping.
 * A store without conditions is usable from every namespace, so an empty list is refused.
 */
export function clusterSecretStoreManifest(input: ClusterSecretStoreInput): ClusterSecretStoreManifest {
  requireDnsLabel(input.name, "ClusterSecretStore name");
  if (input.allowedNamespaces.length === 0) {
    throw new Error(
      `ClusterSecretStore "${input.name}": castle:eso.allowedNamespaces is empty; a store without namespace conditions is usable from every namespace, so list at least one namespace`,
    );
  }
  for (const namespace of input.allowedNamespaces) requireDnsLabel(namespace, "castle:eso.allowedNamespaces entry");
  requireDnsLabel(input.credentialsSecret.namespace, "credentials Secret namespace");
  requireInfisicalFields("ClusterSecretStore", input);
  const { name, namespace, clientIdKey, clientSecretKey } = input.credentialsSecret;
  return {
    apiVersion: ESO_API_VERSION,
    kind: "ClusterSecretStore",
    metadata: { name: input.name },
    spec: {
      conditions: [{ namespaces: [...new Set(input.allowedNamespaces)] }],
      provider: {
        infisical: {
          // A trailing slash after `/api` would make older clients call `/api/api/...`.
          hostAPI: input.hostAPI.replace(/\/+$/, ""),
          auth: {
            universalAuthCredentials: {
              clientId: { name, namespace, key: clientIdKey },
              clientSecret: { name, namespace, key: clientSecretKey },
            },
          },
          secretsScope: {
            projectSlug: input.projectSlug,
            environmentSlug: input.environmentSlug,
            secretsPath: input.secretsPath,
          },
        },
      },
    },
  };
}

/**
 * One ExternalSecret reading from the ClusterSecretStore `storeName`: every key of `spec.keys` is
 * copied from Infisical into the target Secret under the same name. The target Secret is owned by
 * the ExternalSecret (`creationPolicy: Owner`), so it goes away with it.
 */
export function externalSecretManifest(spec: ExternalSecretSpec, storeName: string): ExternalSecretManifest {
  const seen = new Set<string>();
  const duplicates = spec.keys.filter((key) => seen.size === seen.add(key).size);
  if (duplicates.length > 0) {
    throw new Error(
      `ExternalSecret "${spec.name}" (namespace "${spec.namespace}") lists the key(s) ${[...new Set(duplicates)].join(", ")} more than once; ESO's webhook rejects duplicate keys`,
    );
  }
  return {
    apiVersion: ESO_API_VERSION,
    kind: "ExternalSecret",
    metadata: { name: spec.name, namespace: spec.namespace },
    spec: {
      refreshInterval: spec.refreshInterval,
      // `kind` defaults to SecretStore (namespaced) in ESO, so it is always written out.
      secretStoreRef: { kind: "ClusterSecretStore", name: storeName },
      target: { name: spec.targetSecret ?? spec.name, creationPolicy: "Owner" },
      data: spec.keys.map((key) => ({ secretKey: key, remoteRef: { key } })),
    },
  };
}

/** The pulumi-kubernetes annotations that make `pulumi up` wait for an object (provider 4.18 and later). */
const AWAIT_ANNOTATIONS = {
  waitFor: "pulumi.com/waitFor",
  timeoutSeconds: "pulumi.com/timeoutSeconds",
} as const;

/**
 * Annotations that make pulumi-kubernetes wait, on create and on update, until the object's `Ready`
 * condition is `True`, for at most `timeoutSeconds`.
 *
 * Without them a custom resource counts as ready the moment the API server stores it, so `up` would report
 * a healthy castle while ESO holds the store at `Ready=False` (`InvalidProviderConfig`: wrong slug, host or
 * a missing permission). How pulumi-kubernetes 4.34 behaves (provider/pkg/metadata/overrides.go
 * `ReadyCondition`, await/condition/custom.go, await/internal/awaiter.go):
 * - `condition=Ready` waits for `.status.conditions[type=Ready].status == "True"` (kubectl's
 *   `wait --for=condition=Ready` rule; a condition whose observedGeneration lags the object's generation
 *   does not count). `Ready=False` is not a failure by itself: the wait goes on until the timeout, since ESO
 *   retries.
 * - `pulumi.com/timeoutSeconds` bounds that wait (a `customTimeouts` option would take precedence; the
 *   castle sets none). Without it the bound is 10 minutes.
 * - While waiting, every Warning event of the object is shown on its row: ESO records the store's
 *   validation error as a Warning event `InvalidProviderConfig: <error>` (ESO v2.9.0
 *   pkg/controllers/secretstore/common.go `validateStore`), and an ExternalSecret's sync errors likewise.
 * - At the timeout the resource fails with `resource "<urn>" was successfully created, but the Kubernetes
 *   API server reported that it failed to fully initialize or become live: timed out waiting for the
 *   condition`; the URN ends in the object's Pulumi name (`infisical-store`, `infisical-<namespace>/<name>`),
 *   and the object as last seen (with ESO's `status.conditions` message) is kept in the stack's state.
 */
export function readyAwaitAnnotations(timeoutSeconds: number): Record<string, string> {
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new Error(`ready timeout ${timeoutSeconds} must be a whole number of seconds greater than 0`);
  }
  return { [AWAIT_ANNOTATIONS.waitFor]: "condition=Ready", [AWAIT_ANNOTATIONS.timeoutSeconds]: String(timeoutSeconds) };
}

/** `manifest` with `readyAwaitAnnotations(timeoutSeconds)` added to its annotations. */
export function awaitingReady<M extends { metadata: { annotations?: Record<string, string> } }>(
  manifest: M,
  timeoutSeconds: number,
): M {
  return {
    ...manifest,
    metadata: {
      ...manifest.metadata,
      annotations: { ...manifest.metadata.annotations, ...readyAwaitAnnotations(timeoutSeconds) },
    },
  };
}

/**
 * Namespaces every Kubernetes cluster already has: the castle never creates (nor deletes) them. With
 * pulumi-kubernetes 4.29 and later a create of an existing object fails (`AlreadyExists`), so creating
 * one of these would fail the first `up`.
 */
export const BUILT_IN_NAMESPACES: readonly string[] = ["default", "kube-node-lease", "kube-public", "kube-system"];

/**
 * The namespaces the castle creates for its ESO objects: every namespace the store allows and every
 * ExternalSecret's namespace, sorted and without duplicates, less the built-in ones and `exclude` (the
 * operator's namespace, created with the operator).
 */
export function namespacesToCreate(
  allowedNamespaces: readonly string[],
  externalSecretNamespaces: readonly string[],
  exclude: readonly string[] = [],
): string[] {
  const skip = new Set([...BUILT_IN_NAMESPACES, ...exclude]);
  return [...new Set([...allowedNamespaces, ...externalSecretNamespaces])].filter((ns) => !skip.has(ns)).sort();
}

/**
 * Helm's resource policy that keeps an object when its release is uninstalled or replaced (Helm's
 * `helm.sh/resource-policy: keep`).
 */
export const HELM_KEEP_POLICY = { "helm.sh/resource-policy": "keep" } as const;

/** Helm values of the `external-secrets` chart as the castle installs it. */
export interface EsoHelmValues {
  installCRDs: boolean;
  crds: {
    createClusterSecretStore: boolean;
    createSecretStore: boolean;
    annotations: Record<string, string>;
    conversion: { enabled: boolean };
  };
  processClusterStore: boolean;
  processSecretStore: boolean;
  webhook: { create: boolean; failurePolicy: "Fail"; certManager: { enabled: boolean } };
  certController: { create: boolean };
  [key: string]: unknown;
}

/**
 * Chart values (chart 2.9.0). Most equal the chart defaults, written out because the castle depends on them:
 * - `installCRDs: true`: ESO ships its CRDs as chart templates (`templates/crds/*`), so Helm installs
 *   and upgrades them with the release; Helm's skip-CRDs switch does not affect them.
 * - the validating webhook (`failurePolicy: Fail`) with the built-in cert controller (no cert-manager in
 *   the castle): ClusterSecretStores and ExternalSecrets are checked when created. The cert controller
 *   reports ready only once it has injected the CA into the CRDs and the webhook configuration
 *   (readyz checks `crd-inject` and `validation-webhook-inject`), and the webhook only once it serves
 *   with its certificate, so a Helm install that waits for its Deployments waits for a working webhook.
 * - no v1alpha1 conversion webhook (`crds.conversion.enabled: false`): v1 is the only served version.
 * - the ClusterSecretStore and SecretStore CRDs (the cluster's store and the Git credential's store).
 * - `crds.annotations: {helm.sh/resource-policy: keep}`: the chart writes these annotations on every CRD
 *   (external-secrets@helm-chart-2.9.0 deploy/charts/external-secrets/values.yaml `crds.annotations: {}`,
 *   inserted into each CRD template by hack/helm.generate.sh), so Helm keeps the CRDs when the release is
 *   uninstalled or replaced. Without it, deleting the CRDs deletes every ExternalSecret and store of the
 *   cluster, Flux's too, and every Secret they own.
 */
export function esoHelmValues(): EsoHelmValues {
  return {
    installCRDs: true,
    crds: {
      createClusterSecretStore: true,
      createSecretStore: true,
      annotations: { ...HELM_KEEP_POLICY },
      conversion: { enabled: false },
    },
    processClusterStore: true,
    processSecretStore: true,
    webhook: { create: true, failurePolicy: "Fail", certManager: { enabled: false } },
    certController: { create: true },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `overrides` merged into `base`, objects key by key, anything else (arrays too) replaced. */
export function mergeHelmValues(
  base: Record<string, unknown>,
  overrides: Record<string, unknown> | undefined,
): Record<string, unknown> {
  if (!overrides) return base;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? mergeHelmValues(current, value) : value;
  }
  return merged;
}
