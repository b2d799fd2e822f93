import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ExternalSecretSpec } from "../lib/eso-manifests";
import {
  awaitingReady,
  clusterSecretStoreManifest,
  externalSecretManifest,
  INFISICAL_CREDENTIALS_KEYS,
  namespacesToCreate,
} from "../lib/eso-manifests";

export interface InfisicalStoreArgs {
  /** Namespace of the operator, where the credentials Secret is created (`castle:eso.namespace`). */
  namespace: string;
  /** Name of the ClusterSecretStore (`castle:eso.storeName`). */
  storeName: string;
  /** Infisical instance root, without `/api` (`castle:infisical.siteUrl`). */
  hostAPI: string;
  /** Infisical project slug (`castle:infisical.projectSlug`). */
  projectSlug: string;
  /** Infisical environment slug (`castle:infisical.environment`). */
  environmentSlug: string;
  /** Folder the store reads from, absolute (`castle:infisical.secretPath`). */
  secretsPath: string;
  /** The only namespaces that may use the store (`castle:eso.allowedNamespaces`). */
  allowedNamespaces: string[];
  /** Client id of the cluster's read-only machine identity (secret). */
  clientId: pulumi.Input<string>;
  /** Client secret of that identity (secret). */
  clientSecret: pulumi.Input<string>;
  /** ExternalSecrets to create (`castle:eso.externalSecrets`); each must be in an allowed namespace. */
  externalSecrets: ExternalSecretSpec[];
  /** The operator (ESO's Helm release): the store and the ExternalSecrets wait until its CRDs and webhook are ready. */
  operator: pulumi.Resource;
  /**
   * The operator's namespace object: all the credentials Secret needs, so it is created while the
   * operator installs instead of after it.
   */
  operatorNamespace: pulumi.Resource;
  /**
   * How long `pulumi up` waits for the store and each ExternalSecret to be Ready, in seconds
   * (`castle:eso.readyTimeoutSeconds`).
   */
  readyTimeoutSeconds: number;
  /**
   * The resource that lives exactly as long as the cluster (TalosCluster's `lifetime`): every object here is
   * `deletedWith` it, so destroying the cluster never calls the Kubernetes API for them. Removing one
   * object from the stack still deletes it from the cluster.
   */
  deletedWith: pulumi.Resource;
  /**
   * Allowed namespaces another component creates (e.g. GitOps' `flux-system`): not created here, so no
   * namespace is declared twice. Default none.
   */
  namespacesCreatedElsewhere?: string[];
}

/**
 * The Infisical side of ESO: a Secret `<storeName>-credentials` in the operator's namespace holding the
 * machine identity's Universal Auth credentials (keys `clientId`, `clientSecret`), the
 * ClusterSecretStore that uses it (limited to `allowedNamespaces`), the namespaces the store allows (each
 * ExternalSecret's among them; not the built-in ones nor the operator's), and the ExternalSecrets of the stack.
 * It does not install the operator: `operator` and `operatorNamespace` order its objects after ESO's. The store configuration is plain data
 * (validated and built synchronously); only the credentials are Outputs, and they stay secret.
 *
 * The store and every ExternalSecret carry `pulumi.com/waitFor: condition=Ready` (see `readyAwaitAnnotations`):
 * `pulumi up` ends only once ESO has validated the store against Infisical and written every Secret, and
 * fails on the first object that is not Ready in `readyTimeoutSeconds`.
 *
 * Removing a namespace from `allowedNamespaces` deletes it, with everything in it, like any object the
 * stack no longer declares.
 */
export class InfisicalStore extends pulumi.ComponentResource {
  /** Name of the ClusterSecretStore. */
  public readonly storeName: string;
  /** The ClusterSecretStore object: depend on it to create ExternalSecrets elsewhere (e.g. GitOps). */
  public readonly store: k8s.apiextensions.CustomResource;

  constructor(name: string, args: InfisicalStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    const credentialsSecretName = `${args.storeName}-credentials`;
    const storeManifest = awaitingReady(
      clusterSecretStoreManifest({
        name: args.storeName,
        hostAPI: args.hostAPI,
        projectSlug: args.projectSlug,
        environmentSlug: args.environmentSlug,
        secretsPath: args.secretsPath,
        credentialsSecret: {
          name: credentialsSecretName,
          namespace: args.namespace,
          clientIdKey: INFISICAL_CREDENTIALS_KEYS.clientId,
          clientSecretKey: INFISICAL_CREDENTIALS_KEYS.clientSecret,
        },
        allowedNamespaces: args.allowedNamespaces,
      }),
      args.readyTimeoutSeconds,
    );
    const externalSecretManifests = args.externalSecrets.map((spec) =>
      awaitingReady(externalSecretManifest(spec, args.storeName), args.readyTimeoutSeconds),
    );
    const namespaceNames = namespacesToCreate(
      args.allowedNamespaces,
      args.externalSecrets.map((spec) => spec.namespace),
      [args.namespace, ...(args.namespacesCreatedElsewhere ?? [])],
    );

    super("castle:index:InfisicalStore", name, {}, opts);
    // Every object of this component is deleted with the cluster (no API call on destroy), never alone.
    const deletedWith = args.deletedWith;

    // The namespaces first: an object in a namespace that does not exist is refused by the API server.
    const namespaces = new Map<string, k8s.core.v1.Namespace>();
    for (const namespace of namespaceNames) {
      namespaces.set(
        namespace,
        new k8s.core.v1.Namespace(
          `${name}-namespace-${namespace}`,
          { metadata: { name: namespace } },
          { parent: this, deletedWith },
        ),
      );
    }
    // The operator's namespace is ExternalSecrets'; the built-in ones exist on every cluster.
    const namespaceOf = (namespace: string): pulumi.Resource[] => {
      const created = namespaces.get(namespace);
      if (created) return [created];
      return namespace === args.namespace ? [args.operatorNamespace] : [];
    };

    const credentials = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: { name: credentialsSecretName, namespace: args.namespace },
        type: "Opaque",
        stringData: pulumi.secret({
          [INFISICAL_CREDENTIALS_KEYS.clientId]: pulumi.output(args.clientId),
          [INFISICAL_CREDENTIALS_KEYS.clientSecret]: pulumi.output(args.clientSecret),
        }),
      },
      {
        parent: this,
        dependsOn: [args.operatorNamespace],
        additionalSecretOutputs: ["data", "stringData"],
        deletedWith,
      },
    );

    // The ExternalSecrets follow the store, so everything that needs ESO's CRDs and webhook waits for them.
    // A new spec is a new object (deleted first, then created under the same name), so `up` waits for ESO
    // to validate the new spec: ESO's Ready condition carries no observedGeneration, and the old
    // `Ready=True` would satisfy the wait at once. Deleting the store deletes no Secret: ExternalSecrets
    // report the missing store until it is back and keep their Secrets. `spec` covers every path below it
    // (pulumi/pulumi v3.259.0 pkg/resource/deploy/step_generator.go `applyReplaceOnChanges`, PropertyPath.Contains).
    const store = new k8s.apiextensions.CustomResource(`${name}-store`, storeManifest, {
      parent: this,
      dependsOn: [credentials, args.operator],
      deletedWith,
      replaceOnChanges: ["spec"],
      deleteBeforeReplace: true,
    });

    for (const manifest of externalSecretManifests) {
      // `namespace/name`, as kubectl prints it: unique, and unambiguous since a namespace has no '/'.
      new k8s.apiextensions.CustomResource(
        `${name}-${manifest.metadata.namespace}/${manifest.metadata.name}`,
        manifest,
        { parent: this, dependsOn: [store, ...namespaceOf(manifest.metadata.namespace)], deletedWith },
      );
    }

    this.storeName = args.storeName;
    this.store = store;
    this.registerOutputs({ storeName: this.storeName, namespaces: namespaceNames });
  }
}
