import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { awaitingReady, INFISICAL_CREDENTIALS_KEYS, mergeHelmValues, secretStoreManifest } from "../lib/eso-manifests";
import {
  FLUX_GIT_STORE_CREDENTIALS_SECRET,
  FLUX_GIT_STORE_NAME,
  FLUX_NAMESPACE,
  FLUX_OPERATOR_CHART,
  FLUX_OPERATOR_RELEASE_NAME,
  FLUX_OPERATOR_RELEASE_TIMEOUT_SECONDS,
  type FluxSettings,
  fluxInstanceManifest,
  fluxOperatorHelmValues,
  gitPullSecretManifest,
} from "../lib/flux-manifests";

/** Where the Git credential's SecretStore logs in and what it reads (required with Git credentials). */
export interface GitCredentialStoreArgs {
  /** Infisical instance root, without `/api` (`castle:infisical.siteUrl`). */
  hostAPI: string;
  /** Infisical project slug (`castle:infisical.projectSlug`). */
  projectSlug: string;
  /** Infisical environment slug (`castle:infisical.environment`). */
  environmentSlug: string;
  /** Client id of the Git credential's own read-only machine identity (secret). */
  clientId: pulumi.Input<string>;
  /** Client secret of that identity (secret). */
  clientSecret: pulumi.Input<string>;
  /** How long `pulumi up` waits for the store to be Ready, seconds (`castle:eso.readyTimeoutSeconds`). */
  readyTimeoutSeconds: number;
}

export interface GitOpsArgs {
  /** `castle:gitops` with its defaults resolved (`resolveGitOps`). */
  gitops: FluxSettings;
  /**
   * ESO's Helm release: the FluxInstance always waits for it (and the pull secret's objects need its
   * CRDs and webhook), so a repository that holds ExternalSecrets applies at the first sync.
   */
  esoRelease: pulumi.Resource;
  /**
   * The cluster's ClusterSecretStore: the FluxInstance waits until it is Ready, so ExternalSecrets the
   * repository holds sync at the first apply instead of after their first retry.
   */
  clusterStore: pulumi.Resource;
  /** The Git credential's own store. Required when `gitops.credentials` is set. */
  gitCredentialStore?: GitCredentialStoreArgs;
  /**
   * A resource that lives exactly as long as the cluster: every object here is `deletedWith` it, so
   * destroying the cluster never waits on Flux's finalizers or on an API server that is gone.
   */
  deletedWith: pulumi.Resource;
  /** Extra operator chart values, merged over `fluxOperatorHelmValues()`. Default none. */
  values?: Record<string, unknown>;
}

/**
 * Flux, the way the Flux project recommends: the Flux Operator (Helm release of its OCI chart) and one
 * `FluxInstance` that installs the pinned Flux distribution and syncs the cluster from the stack's Git
 * repository.
 *
 * The Git credential has a wall of its own: with credentials, a Secret `flux-git-infisical` in
 * `flux-system` holds the Universal Auth credentials of the Git credential's own identity, a SecretStore
 * `flux-git` in `flux-system` (usable from that namespace alone) reads the Git credential's own folder
 * with it, and an ExternalSecret on that store writes the GitRepository's Secret. Only key names pass
 * through here, never a Git credential. No other namespace can use the store, and the cluster's identity
 * cannot read the folder (`castle doctor` proves both identities' walls).
 *
 * Order: the `flux-system` Namespace; then the operator release (it needs only a healthy cluster, so it
 * installs beside ESO) and the Git credential's store and pull secret (after ESO), awaited Ready; then the
 * FluxInstance, after the operator, ESO's release, the cluster's store and the pull secret, awaited Ready
 * (Flux installed and the first sync applied). Source-controller does not watch Secrets, so a pull
 * secret that came after the instance would be seen only at its next retry (up to 15 minutes later); a
 * repository whose ExternalSecrets came before ESO's CRDs would wait for the sync interval.
 *
 * A change of the store's spec replaces it (deleted first, then created under the same name), so `up`
 * waits for ESO to validate the new spec: ESO's conditions carry no observedGeneration, and the old
 * `Ready=True` would satisfy the wait at once. Deleting a store deletes no Secret.
 *
 * On destroy of the cluster, everything here is `deletedWith` the cluster. When GitOps alone is removed
 * from a live cluster, the FluxInstance goes first (its finalizer uninstalls Flux and deletes Flux's
 * CRDs, hence every Flux object, while the operator still runs), then the pull secret, the operator
 * release (Helm keeps the operator's CRDs) and the namespace.
 */
export class GitOps extends pulumi.ComponentResource {
  /** The repository Flux syncs from. */
  public readonly url: string;
  /** The reference Flux checks out. */
  public readonly ref: string;
  /** The repository directory applied to this cluster. */
  public readonly path: string;
  /** The `flux-system` Namespace. */
  public readonly namespace: k8s.core.v1.Namespace;
  /** The Flux Operator's Helm release. */
  public readonly release: k8s.helm.v3.Release;
  /** The Git credential's SecretStore of `flux-system`, when credentials are set. */
  public readonly gitStore: k8s.apiextensions.CustomResource | undefined;
  /** The ExternalSecret writing the Git pull secret, when credentials are set. */
  public readonly pullSecret: k8s.apiextensions.CustomResource | undefined;
  /** The FluxInstance `flux`. */
  public readonly instance: k8s.apiextensions.CustomResource;

  constructor(name: string, args: GitOpsArgs, opts?: pulumi.ComponentResourceOptions) {
    // Built (and checked) before anything is registered, so a bad stack creates nothing.
    const instanceManifest = fluxInstanceManifest(args.gitops);
    const pullSecretManifest = gitPullSecretManifest(args.gitops, FLUX_GIT_STORE_NAME);
    const storeArgs = args.gitCredentialStore;
    if (pullSecretManifest && (!storeArgs || args.gitops.secretsPath === undefined)) {
      throw new Error(
        "GitOps: castle:gitops.credentials needs castle:gitops.secretsPath and the Git credential's identity (args.gitCredentialStore)",
      );
    }
    const storeManifest =
      pullSecretManifest && storeArgs && args.gitops.secretsPath !== undefined
        ? awaitingReady(
            secretStoreManifest({
              name: FLUX_GIT_STORE_NAME,
              namespace: FLUX_NAMESPACE,
              hostAPI: storeArgs.hostAPI,
              projectSlug: storeArgs.projectSlug,
              environmentSlug: storeArgs.environmentSlug,
              secretsPath: args.gitops.secretsPath,
              credentialsSecret: {
                name: FLUX_GIT_STORE_CREDENTIALS_SECRET,
                clientIdKey: INFISICAL_CREDENTIALS_KEYS.clientId,
                clientSecretKey: INFISICAL_CREDENTIALS_KEYS.clientSecret,
              },
            }),
            storeArgs.readyTimeoutSeconds,
          )
        : undefined;

    super("castle:index:GitOps", name, {}, opts);
    const inCluster = { parent: this, deletedWith: args.deletedWith };

    this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: FLUX_NAMESPACE } }, inCluster);

    this.release = new k8s.helm.v3.Release(
      `${name}-operator`,
      {
        name: FLUX_OPERATOR_RELEASE_NAME,
        // The whole OCI address is the chart; a repositoryOpts.repo of oci://... would make the provider
        // look for an index.yaml and fail.
        chart: FLUX_OPERATOR_CHART,
        version: args.gitops.operatorChartVersion,
        namespace: this.namespace.metadata.name,
        createNamespace: false,
        values: mergeHelmValues(fluxOperatorHelmValues(), args.values),
        skipAwait: false,
        atomic: true,
        cleanupOnFail: true,
        timeout: FLUX_OPERATOR_RELEASE_TIMEOUT_SECONDS,
      },
      inCluster,
    );

    if (storeManifest && storeArgs) {
      const credentials = new k8s.core.v1.Secret(
        `${name}-git-store-credentials`,
        {
          metadata: { name: FLUX_GIT_STORE_CREDENTIALS_SECRET, namespace: FLUX_NAMESPACE },
          type: "Opaque",
          stringData: pulumi.secret({
            [INFISICAL_CREDENTIALS_KEYS.clientId]: pulumi.output(storeArgs.clientId),
            [INFISICAL_CREDENTIALS_KEYS.clientSecret]: pulumi.output(storeArgs.clientSecret),
          }),
        },
        { ...inCluster, dependsOn: [this.namespace], additionalSecretOutputs: ["data", "stringData"] },
      );
      this.gitStore = new k8s.apiextensions.CustomResource(`${name}-git-store`, storeManifest, {
        ...inCluster,
        dependsOn: [credentials, args.esoRelease],
        // A new spec is a new object, so `up` waits for ESO to validate it (see the class comment).
        replaceOnChanges: ["spec"],
        deleteBeforeReplace: true,
      });
    }

    this.pullSecret =
      pullSecretManifest && this.gitStore
        ? new k8s.apiextensions.CustomResource(`${name}-pull-secret`, pullSecretManifest, {
            ...inCluster,
            dependsOn: [this.namespace, this.gitStore],
          })
        : undefined;

    this.instance = new k8s.apiextensions.CustomResource(`${name}-instance`, instanceManifest, {
      ...inCluster,
      dependsOn: [
        this.namespace,
        this.release,
        args.esoRelease,
        args.clusterStore,
        ...(this.pullSecret ? [this.pullSecret] : []),
      ],
    });

    this.url = args.gitops.url;
    this.ref = args.gitops.ref;
    this.path = args.gitops.path;
    this.registerOutputs({ url: this.url, ref: this.ref, path: this.path });
  }
}
