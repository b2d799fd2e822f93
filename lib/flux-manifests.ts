/**
 * Pure builders of the Flux objects the castle creates: the Flux Operator's Helm values, the
 * `FluxInstance` that installs Flux and syncs the cluster from Git, and the ESO `ExternalSecret` that
 * writes the Git pull secret into `flux-system`.
 *
 * Field names follow the FluxInstance CRD of flux-operator v0.58.1 (`fluxcd.controlplane.io/v1`), the
 * GitRepository CRD of the source-controller that Flux 2.9.4 installs (where `sync` lands) and ESO's
 * v2.9.0 ExternalSecret CRD; tests check every manifest built here against tables derived from those
 * CRDs (tests/support/flux-crd-facts.ts and tests/support/eso-crd-facts.ts).
 */
import { ESO_API_VERSION } from "./eso-manifests";

/** Namespace of Flux: the FluxInstance, its controllers and the Git pull secret live there. */
export const FLUX_NAMESPACE = "flux-system";
/** The Flux Operator chart, an OCI artifact on ghcr.io: the whole address is the chart name. */
export const FLUX_OPERATOR_CHART = "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator";

/** The stack's GitOps settings (`castle:gitops`, defaults resolved), as the builders take them. */
export interface FluxSettings {
  /** Git repository, `https://...` or `ssh://...`. */
  url: string;
  /** Full Git reference, e.g. `refs/heads/main`. */
  ref: string;
  /** Directory of the repository applied to the cluster, relative. */
  path: string;
  /** Fetch interval, a Go duration. */
  interval: string;
  /** Names of the Infisical secrets holding the Git credentials; absent for a public repository. */
  credentials?: { token?: string; sshIdentity?: string; sshKnownHosts?: string };
  /** Flux Operator chart version. */
  operatorChartVersion: string;
  /** Exact Flux distribution version. */
  fluxVersion: string;
  /** Registry of the Flux controller images. */
  registry: string;
  /** Flux controllers to run. */
  components: readonly string[];
}
/** The FluxInstance API: `v1` is the only version of the CRD. */
const FLUX_INSTANCE_API_VERSION = "fluxcd.controlplane.io/v1";
/** The operator accepts exactly one FluxInstance, named `flux` (a CEL rule of the CRD). */
export const FLUX_INSTANCE_NAME = "flux";
/** Helm release name of the operator (its objects are named after it). */
export const FLUX_OPERATOR_RELEASE_NAME = "flux-operator";
/**
 * The Secret the GitRepository reads (`sync.pullSecret`): `flux-system`, the name `flux bootstrap`
 * gives it, in the GitRepository's namespace.
 */
const FLUX_PULL_SECRET_NAME = "flux-system";
/** The ExternalSecret that writes the pull secret. */
export const FLUX_PULL_SECRET_EXTERNAL_SECRET = "flux-git-credentials";
/** HTTPS user sent with a token (what `flux bootstrap` writes for GitHub, GitLab and Gitea tokens). */
const GIT_TOKEN_USERNAME = "git";

/**
 * How long Pulumi waits for the FluxInstance to turn Ready, seconds. Ready includes Flux's install and
 * the first sync; the operator's own health wait is 5 minutes per attempt (`reconcileTimeout`), so one
 * failed attempt plus the retry fits, and a broken repository fails `up` with Flux's message.
 */
export const FLUX_INSTANCE_TIMEOUT_SECONDS = 900;
/** How long Pulumi waits for the pull secret's ExternalSecret to be synced from Infisical, seconds. */
export const PULL_SECRET_TIMEOUT_SECONDS = 300;
/** How long Helm may take to install or upgrade the operator (one Deployment, image pull included). */
export const FLUX_OPERATOR_RELEASE_TIMEOUT_SECONDS = 600;

/** Annotations that make the Kubernetes provider wait for the object's Ready condition, bounded. */
function awaitReadyAnnotations(timeoutSeconds: number): Record<string, string> {
  return { "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": String(timeoutSeconds) };
}

/** Helm values of the flux-operator chart (read at chart 0.49.0; same keys at 0.58.1). */
export interface FluxOperatorHelmValues {
  installCRDs: boolean;
  web: { enabled: boolean };
  multitenancy: { enabled: boolean };
  [key: string]: unknown;
}

/**
 * Chart values:
 * - `installCRDs: true` (the default, written out): the four operator CRDs are chart templates kept on
 *   uninstall (`helm.sh/resource-policy: keep`); the FluxInstance needs them.
 * - `web.enabled: false`: no Flux Status web UI (port 9080) and its RBAC; the castle exposes nothing it
 *   does not use.
 * - `multitenancy.enabled: false` (the default): lock-down of ResourceSets, which the castle does not use.
 */
export function fluxOperatorHelmValues(): FluxOperatorHelmValues {
  return { installCRDs: true, web: { enabled: false }, multitenancy: { enabled: false } };
}

export interface FluxInstanceManifest {
  apiVersion: typeof FLUX_INSTANCE_API_VERSION;
  kind: "FluxInstance";
  metadata: { name: typeof FLUX_INSTANCE_NAME; namespace: string; annotations: Record<string, string> };
  spec: {
    distribution: { version: string; registry: string };
    components: string[];
    cluster: { type: "kubernetes"; domain: string; networkPolicy: boolean; multitenant: boolean };
    wait: boolean;
    sync: {
      kind: "GitRepository";
      url: string;
      ref: string;
      path: string;
      interval: string;
      pullSecret?: string;
    };
  };
}

/**
 * The FluxInstance `flux` in `flux-system`: the pinned Flux distribution with the stack's controllers,
 * cluster settings, and `sync` from the stack's repository. `pullSecret` is set only with credentials.
 *
 * - `distribution.version` is exact and no `distribution.artifact` is set: the operator builds Flux from
 *   the manifests in its own image, so Flux changes only when the stack changes a version.
 * - `cluster`: a plain Kubernetes cluster (Talos), the Kubernetes default domain `cluster.local` (the
 *   castle does not change it), Flux's NetworkPolicies on, single tenant.
 * - `wait: true`: the operator's Ready waits for every object it applied, the generated GitRepository
 *   and Kustomization included, so Ready means the first sync happened.
 * - Annotated so Pulumi waits for Ready, at most FLUX_INSTANCE_TIMEOUT_SECONDS.
 */
export function fluxInstanceManifest(gitops: FluxSettings): FluxInstanceManifest {
  return {
    apiVersion: FLUX_INSTANCE_API_VERSION,
    kind: "FluxInstance",
    metadata: {
      name: FLUX_INSTANCE_NAME,
      namespace: FLUX_NAMESPACE,
      annotations: awaitReadyAnnotations(FLUX_INSTANCE_TIMEOUT_SECONDS),
    },
    spec: {
      distribution: { version: gitops.fluxVersion, registry: gitops.registry },
      components: [...new Set(gitops.components)],
      cluster: { type: "kubernetes", domain: "cluster.local", networkPolicy: true, multitenant: false },
      wait: true,
      sync: {
        kind: "GitRepository",
        url: gitops.url,
        ref: gitops.ref,
        path: gitops.path,
        interval: gitops.interval,
        ...(gitops.credentials ? { pullSecret: FLUX_PULL_SECRET_NAME } : {}),
      },
    },
  };
}

export interface PullSecretExternalSecretManifest {
  apiVersion: typeof ESO_API_VERSION;
  kind: "ExternalSecret";
  metadata: { name: string; namespace: string; annotations: Record<string, string> };
  spec: {
    refreshInterval: string;
    secretStoreRef: { kind: "ClusterSecretStore"; name: string };
    target: {
      name: string;
      creationPolicy: "Owner";
      template: {
        engineVersion: "v2";
        mergePolicy: "Replace";
        type: "Opaque";
        data: Record<string, string>;
      };
    };
    data: { secretKey: string; remoteRef: { key: string } }[];
  };
}

/**
 * The ExternalSecret that builds the GitRepository's Secret `flux-system` from the cluster's Infisical
 * folder, or undefined for a public repository. Only key names are in it: ESO reads the values with
 * the cluster's identity. The template writes exactly the keys source-controller reads:
 * - HTTPS token: `username: git` and `password: <token>` (basic auth, as `flux bootstrap` does);
 * - SSH: `identity` (private key) and `known_hosts`.
 * Annotated so Pulumi waits until ESO has written the Secret (Ready), since source-controller does not
 * watch Secrets and backs off for up to 15 minutes when its Secret comes late.
 */
export function gitPullSecretManifest(
  gitops: Pick<FluxSettings, "credentials">,
  storeName: string,
): PullSecretExternalSecretManifest | undefined {
  const credentials = gitops.credentials;
  if (!credentials) return undefined;
  let data: { secretKey: string; remoteRef: { key: string } }[];
  let template: Record<string, string>;
  if (credentials.token && !credentials.sshIdentity && !credentials.sshKnownHosts) {
    data = [{ secretKey: "token", remoteRef: { key: credentials.token } }];
    template = { username: GIT_TOKEN_USERNAME, password: "{{ .token }}" };
  } else if (credentials.sshIdentity && credentials.sshKnownHosts && !credentials.token) {
    data = [
      { secretKey: "identity", remoteRef: { key: credentials.sshIdentity } },
      { secretKey: "known_hosts", remoteRef: { key: credentials.sshKnownHosts } },
    ];
    template = { identity: "{{ .identity }}", known_hosts: "{{ .known_hosts }}" };
  } else {
    throw new Error(
      "castle:gitops.credentials must set either token, or sshIdentity and sshKnownHosts (castle check explains which)",
    );
  }
  return {
    apiVersion: ESO_API_VERSION,
    kind: "ExternalSecret",
    metadata: {
      name: FLUX_PULL_SECRET_EXTERNAL_SECRET,
      namespace: FLUX_NAMESPACE,
      annotations: awaitReadyAnnotations(PULL_SECRET_TIMEOUT_SECONDS),
    },
    spec: {
      refreshInterval: "1h",
      secretStoreRef: { kind: "ClusterSecretStore", name: storeName },
      target: {
        name: FLUX_PULL_SECRET_NAME,
        // The Secret goes with its ExternalSecret.
        creationPolicy: "Owner",
        template: { engineVersion: "v2", mergePolicy: "Replace", type: "Opaque", data: template },
      },
      data,
    },
  };
}
