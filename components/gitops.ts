import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { mergeHelmValues } from "../lib/eso-manifests";
import {
  FLUX_NAMESPACE,
  FLUX_OPERATOR_CHART,
  FLUX_OPERATOR_RELEASE_NAME,
  FLUX_OPERATOR_RELEASE_TIMEOUT_SECONDS,
  type FluxSettings,
  fluxInstanceManifest,
  fluxOperatorHelmValues,
  gitPullSecretManifest,
} from "../lib/flux-manifests";

export interface GitOpsArgs {
  /** `castle:gitops` with its defaults resolved (`resolveGitOps`). */
  gitops: FluxSettings;
  /** Name of the castle's ClusterSecretStore (`castle:eso.storeName`); it must admit `flux-system`. */
  storeName: string;
  /**
   * The ClusterSecretStore resource: the pull secret's ExternalSecret is created after it (ESO's CRDs
   * and webhook are ready by then). Required when `gitops.credentials` is set.
   */
  store?: pulumi.Resource;
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
 * repository. With credentials, an ESO `ExternalSecret` on the castle's ClusterSecretStore writes the
 * GitRepository's Secret from the cluster's Infisical folder: only key names pass through here, never a
 * credential.
 *
 * Order: the `flux-system` Namespace; then the operator release (it needs only a healthy cluster, so it
 * installs beside ESO) and the pull secret (after the store), awaited Ready; then the FluxInstance, after
 * both, awaited Ready (Flux installed and the first sync applied). Source-controller does not watch
 * Secrets, so a pull secret that came after the instance would be seen only at its next retry (up to 15
 * minutes later).
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
  /** The ExternalSecret writing the Git pull secret, when credentials are set. */
  public readonly pullSecret: k8s.apiextensions.CustomResource | undefined;
  /** The FluxInstance `flux`. */
  public readonly instance: k8s.apiextensions.CustomResource;

  constructor(name: string, args: GitOpsArgs, opts?: pulumi.ComponentResourceOptions) {
    // Built (and checked) before anything is registered, so a bad stack creates nothing.
    const instanceManifest = fluxInstanceManifest(args.gitops);
    const pullSecretManifest = gitPullSecretManifest(args.gitops, args.storeName);
    if (pullSecretManifest && !args.store) {
      throw new Error(
        "GitOps: castle:gitops.credentials needs the ClusterSecretStore (args.store) to bring the Git credentials into flux-system",
      );
    }

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

    this.pullSecret = pullSecretManifest
      ? new k8s.apiextensions.CustomResource(`${name}-pull-secret`, pullSecretManifest, {
          ...inCluster,
          dependsOn: [this.namespace, ...(args.store ? [args.store] : [])],
        })
      : undefined;

    this.instance = new k8s.apiextensions.CustomResource(`${name}-instance`, instanceManifest, {
      ...inCluster,
      dependsOn: [this.namespace, this.release, ...(this.pullSecret ? [this.pullSecret] : [])],
    });

    this.url = args.gitops.url;
    this.ref = args.gitops.ref;
    this.path = args.gitops.path;
    this.registerOutputs({ url: this.url, ref: this.ref, path: this.path });
  }
}
