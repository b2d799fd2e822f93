import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  ESO_CHART_NAME,
  ESO_CHART_REPOSITORY,
  ESO_RELEASE_NAME,
  esoHelmValues,
  mergeHelmValues,
} from "../lib/eso-manifests";

export interface ExternalSecretsArgs {
  /** Namespace created for the operator (and, by InfisicalStore, its credentials Secret), e.g. `external-secrets`. */
  namespace: string;
  /** Exact version of the `external-secrets` chart, e.g. `2.9.0` (`castle:eso.chartVersion`). */
  chartVersion: pulumi.Input<string>;
  /** Helm repository of the chart. Default `ESO_CHART_REPOSITORY` (https://charts.external-secrets.io). */
  chartRepository?: pulumi.Input<string>;
  /** Extra chart values, merged over `esoHelmValues()` (objects key by key, anything else replaced). Default none. */
  values?: Record<string, unknown>;
  /**
   * The resource that lives exactly as long as the cluster (TalosCluster's `lifetime`): the namespace and
   * the release are `deletedWith` it, so destroying the cluster never asks Helm or the API server to
   * uninstall anything (pulumi-kubernetes refuses to delete a release of an unreachable cluster, and ESO's
   * webhooks and finalizers block deletes on a broken one). Changing or removing the release on a live
   * cluster still goes through Helm.
   */
  deletedWith: pulumi.Resource;
}

/** How long Helm may take for the install or an upgrade, seconds (image pulls on fresh nodes included). */
const RELEASE_TIMEOUT_SECONDS = 600;

/**
 * The External Secrets Operator: its namespace and the `external-secrets` Helm release (controller,
 * validating webhook, cert controller and the CRDs). It does not create any store or ExternalSecret
 * (see InfisicalStore), and takes its Kubernetes provider from `opts`.
 *
 * Why `helm.v3.Release` and not `helm.v4.Chart`: the Release runs Helm itself, so the CRDs that ESO
 * ships as chart templates (the ClusterSecretStore CRD alone is ~690 KB) are installed and upgraded by
 * Helm instead of becoming hundreds of resources in Pulumi state, an upgrade that fails is rolled back
 * by Helm (`atomic`), and the resource completes only when every object of the release is ready —
 * including the webhook and cert-controller Deployments, which turn ready once the webhook serves with
 * a certificate and the CA is injected. Anything that `dependsOn` this component's `release` therefore
 * reaches a working admission webhook (`failurePolicy: Fail`) instead of "connection refused".
 */
export class ExternalSecrets extends pulumi.ComponentResource {
  /** The Helm release; depend on it to create ESO objects after the webhook is ready. */
  public readonly release: k8s.helm.v3.Release;
  /** The operator's namespace object; depend on it for what needs only the namespace (e.g. credentials). */
  public readonly namespaceResource: k8s.core.v1.Namespace;

  constructor(name: string, args: ExternalSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("castle:index:ExternalSecrets", name, {}, opts);

    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: args.namespace } },
      { parent: this, deletedWith: args.deletedWith },
    );

    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: ESO_RELEASE_NAME,
        chart: ESO_CHART_NAME,
        version: args.chartVersion,
        repositoryOpts: { repo: args.chartRepository ?? ESO_CHART_REPOSITORY },
        namespace: namespace.metadata.name,
        createNamespace: false,
        values: mergeHelmValues(esoHelmValues(), args.values),
        // Wait for every object of the release to be ready; roll back (and clean up) if it is not.
        skipAwait: false,
        atomic: true,
        cleanupOnFail: true,
        timeout: RELEASE_TIMEOUT_SECONDS,
      },
      { parent: this, deletedWith: args.deletedWith },
    );

    this.namespaceResource = namespace;
    this.registerOutputs({ release: this.release });
  }
}
