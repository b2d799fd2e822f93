/**
 * Ephemeral Castle: config -> providers -> components -> outputs.
 *
 * Pulumi calls the exported function with no argument: the stack's configuration and secrets are then
 * read through config/ (Pulumi config, Infisical, guard rails) before any resource exists. `castle render`
 * and the tests call it with ready inputs instead.
 */
import * as k8s from "@pulumi/kubernetes";
import { ExternalSecrets } from "./components/external-secrets";
import { GitOps } from "./components/gitops";
import { InfisicalStore } from "./components/infisical-store";
import { ProxmoxNodes } from "./components/proxmox-nodes";
import { SecretboxEncryption } from "./components/secretbox-encryption";
import { TalosCluster } from "./components/talos-cluster";
import { TalosImage } from "./components/talos-image";
import { resolveGitOps } from "./config/gitops";
import { type CastleInputs, loadCastle } from "./config/index";
import { castleProxmoxProvider } from "./config/running-castle";
import { castleNodes, clusterEndpoint, controlPlanesRunWorkloads } from "./config/topology";
import { FLUX_NAMESPACE } from "./lib/flux-manifests";
import { guardTags } from "./lib/guard-tags";
import { STACK_OUTPUTS } from "./lib/stack-outputs";

async function castle(inputs?: CastleInputs) {
  const loaded = inputs ?? (await loadCastle());
  const { config, secrets, guarded } = loaded;
  const { network } = config;
  const nodes = castleNodes(config);

  // Providers
  const proxmoxProvider = loaded.proxmoxProvider ?? castleProxmoxProvider(config, secrets);

  // Components
  const image = new TalosImage("talos-image", {
    talosVersion: config.talos.version,
    architecture: config.talos.architecture,
    extensions: config.talos.extensions,
  });

  const vms = new ProxmoxNodes(
    "proxmox",
    {
      clusterName: config.clusterName,
      talosVersion: config.talos.version,
      architecture: config.talos.architecture,
      schematicId: image.schematicId,
      diskImageUrl: image.diskImageUrl,
      proxmoxNodes: config.proxmox.nodes,
      imageDatastore: config.proxmox.imageDatastore,
      imageDatastoreShared: config.proxmox.imageDatastoreShared,
      vmDatastore: config.proxmox.vmDatastore,
      bridge: config.proxmox.bridge,
      vlanId: config.proxmox.vlanId,
      cpuType: config.proxmox.cpuType,
      cidr: network.cidr,
      gateway: network.gateway,
      dnsServers: network.dns,
      nodes,
      // The running castle's marks, read back by the re-keying guard before the next run touches anything.
      controlPlaneTags: guardTags(guarded),
    },
    { provider: proxmoxProvider },
  );

  const secretbox = new SecretboxEncryption("secretbox", { key: secrets.secretboxKey });

  const cluster = new TalosCluster("talos", {
    clusterName: config.clusterName,
    clusterEndpoint: clusterEndpoint(network),
    talosVersion: config.talos.version,
    contract: config.talos.contract,
    kubernetesVersion: config.kubernetesVersion,
    installDisk: config.talos.installDisk,
    installerImage: image.installerImage,
    network: { cidr: network.cidr, gateway: network.gateway, dns: network.dns, vip: network.vip },
    nodes: nodes.map((node) => ({ hostname: node.hostname, ip: node.ip, role: node.role, vm: vms.vms[node.hostname] })),
    controlPlanePatches: [secretbox.configPatch],
    healthTimeoutSeconds: config.talos.healthTimeoutSeconds,
    allowSchedulingOnControlPlanes: controlPlanesRunWorkloads(config),
  });

  // Kubernetes: in `pulumi up` reachable only once the cluster passed its health check (the kubeconfig
  // waits for it); in a preview the kubeconfig is known for a running cluster, so its objects are diffed.
  // `clusterIdentifier`: the provider is replaced only when the cluster is a new one, not when Talos marks
  // the kubeconfig unknown inside its renewal window (pulumi-kubernetes `DiffConfig`). No
  // `deleteUnreachable`: a refresh while the API does not answer must fail, not drop every object from
  // state; `castle recreate` sets PULUMI_K8S_DELETE_UNREACHABLE for its destroy alone.
  const kubernetes = new k8s.Provider("kubernetes", {
    kubeconfig: cluster.kubeconfig,
    clusterIdentifier: cluster.clusterIdentifier,
  });

  // Every in-cluster object is deleted with the cluster: destroying the castle never needs its API
  // (the engine skips the delete of a resource whose `deletedWith` target is deleted in the same run;
  // removing one object from the stack still deletes it through the API).
  const inCluster = cluster.lifetime;

  const eso = new ExternalSecrets(
    "external-secrets",
    { namespace: config.eso.namespace, chartVersion: config.eso.chartVersion, deletedWith: inCluster },
    { provider: kubernetes },
  );

  // GitOps: the Flux Operator beside ESO (it needs only a healthy cluster), the Git credential's own
  // store and pull secret after ESO, the FluxInstance after ESO and the cluster's store. Flux's namespace
  // is GitOps' own, even when the cluster's store allows it.
  const gitopsSettings = resolveGitOps(config);

  const store = new InfisicalStore(
    "infisical",
    {
      namespace: config.eso.namespace,
      storeName: config.eso.storeName,
      hostAPI: config.infisical.siteUrl,
      projectSlug: config.infisical.projectSlug,
      environmentSlug: config.infisical.environment,
      secretsPath: config.eso.secretsPath,
      allowedNamespaces: config.eso.allowedNamespaces,
      clientId: secrets.esoClientId,
      clientSecret: secrets.esoClientSecret,
      externalSecrets: config.eso.externalSecrets,
      operator: eso.release,
      operatorNamespace: eso.namespaceResource,
      readyTimeoutSeconds: config.eso.readyTimeoutSeconds,
      deletedWith: inCluster,
      namespacesCreatedElsewhere: gitopsSettings ? [FLUX_NAMESPACE] : [],
    },
    { provider: kubernetes },
  );

  const gitops = gitopsSettings
    ? new GitOps(
        "gitops",
        {
          gitops: gitopsSettings,
          esoRelease: eso.release,
          clusterStore: store.store,
          gitCredentialStore:
            secrets.gitopsClientId && secrets.gitopsClientSecret
              ? {
                  hostAPI: config.infisical.siteUrl,
                  projectSlug: config.infisical.projectSlug,
                  environmentSlug: config.infisical.environment,
                  clientId: secrets.gitopsClientId,
                  clientSecret: secrets.gitopsClientSecret,
                  readyTimeoutSeconds: config.eso.readyTimeoutSeconds,
                }
              : undefined,
          deletedWith: inCluster,
        },
        { provider: kubernetes },
      )
    : undefined;

  // Outputs
  const O = STACK_OUTPUTS;
  return {
    [O.endpoint]: cluster.endpoint,
    [O.nodes]: vms.nodes.map(({ hostname, ip, role }) => ({ hostname, ip, role })),
    [O.secretboxKeyFingerprint]: secretbox.fingerprint,
    [O.talosContract]: guarded.contract,
    [O.talosVersion]: config.talos.version,
    [O.kubernetesVersion]: config.kubernetesVersion,
    [O.clusterHealthy]: cluster.healthy,
    [O.storeName]: store.storeName,
    ...(gitops ? { [O.gitopsRepository]: gitops.url, [O.gitopsRef]: gitops.ref, [O.gitopsPath]: gitops.path } : {}),
    [O.kubeconfig]: cluster.kubeconfig,
    [O.talosconfig]: cluster.talosconfig,
  };
}

export = castle;
