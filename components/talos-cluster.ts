import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { CastleNode } from "../lib/nodes";
import * as talos from "../lib/talos";
import { renderNodePatches } from "../lib/talos-patches";

/**
 * One node of the cluster, as TalosCluster configures it: the castle's node model (its hostname, the
 * stable key of the node's child names; its address, the node's Talos API endpoint; its role, the first
 * control plane being the one bootstrapped) and the node's VM, whose creation the config apply waits for.
 */
export type TalosClusterNode = Pick<CastleNode, "hostname" | "ip" | "role"> & { vm: pulumi.Resource };

/** The node network, shared by all nodes. */
export interface TalosClusterNetwork {
  /** Node subnet in CIDR form, `<network>/<prefix>`. */
  cidr: string;
  /** Default gateway, inside the subnet. */
  gateway: string;
  /** DNS resolvers, at least one. */
  dns: string[];
  /** Kubernetes API VIP (Talos Layer 2 VIP on the control planes), inside the subnet, not a node address. */
  vip: string;
}

export interface TalosClusterArgs {
  /** Cluster name (a DNS label): the Kubernetes cluster name and the talosconfig context. */
  clusterName: string;
  /** Kubernetes API endpoint, `https://<vip>:6443`: used in the machine configs and the kubeconfig only. */
  clusterEndpoint: string;
  /** Talos release installed on the nodes, e.g. `v1.13.9`; the installer image must carry this tag. */
  talosVersion: string;
  /** Machine-config version contract, e.g. `v1.13`; fixed for the life of the cluster (changing it regenerates the secrets). */
  contract: string;
  /** Kubernetes version without a leading v, e.g. `1.36.3`. */
  kubernetesVersion: string;
  /** Install disk as the VMs present it, e.g. `/dev/sda`. */
  installDisk: string;
  /** Installer image, e.g. `factory.talos.dev/nocloud-installer/<schematic id>:v1.13.9` (keeps the guest agent). */
  installerImage: pulumi.Input<string>;
  /** Node network: subnet, gateway, resolvers, API VIP. */
  network: TalosClusterNetwork;
  /** Every node, control planes and workers; at least one control plane. */
  nodes: TalosClusterNode[];
  /** Extra config patches for control planes only, e.g. the secretbox patch; default none. */
  controlPlanePatches?: pulumi.Input<string>[];
  /**
   * How long a real update waits for the health check, in seconds (the check's `timeouts.read`),
   * e.g. 600 (`castle:talos.healthTimeoutSeconds`).
   */
  healthTimeoutSeconds: number;
  /** The control planes run workloads too (not tainted); default false. */
  allowSchedulingOnControlPlanes?: boolean;
}

/**
 * How every configuration is applied. `staged_if_needing_reboot` makes the talos provider dry-run a change
 * while planning: a change that needs a reboot is staged (written, applied at the node's next boot), anything
 * else is applied at once. The applies run in parallel, so `auto` would reboot every control plane at the
 * same moment and lose etcd quorum; staged changes are rolled one node at a time by the operator (docs/runbooks.md,
 * "Rolling reboots"). A first apply meets a node in maintenance mode, and that resolves to `auto`, which
 * installs Talos: the provider's dry-run first tries the node's insecure maintenance API, which answers,
 * and Talos answers a dry-run `auto` there with "no reboot" (siderolabs/terraform-provider-talos v0.11.0
 * pkg/talos/util.go `talosClientOp`, talos_machine_configuration_apply_resource.go `handleRebootPrevention`;
 * siderolabs/talos v1.13.9 internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go
 * `ApplyConfiguration`). A node not booted yet cannot be reached at all: the provider warns and uses `auto` too.
 */
const CONFIG_APPLY_MODE = "staged_if_needing_reboot";

/**
 * A Talos Kubernetes cluster on nodes that already exist (their VMs): the machine secrets, one
 * machine configuration per node, applied to each node in parallel, the etcd bootstrap of the first
 * control plane, the admin kubeconfig and, in a real update only, a health check of every node.
 *
 * Owns the Talos side only: not the VMs (ProxmoxNodes), not the encryption key (SecretboxEncryption
 * gives its patch in `controlPlanePatches`), not the provider (given through `opts`).
 *
 * The Talos API is always reached on node addresses: the VIP is held through an etcd election, so
 * it comes up only after bootstrap, and it is used in the Kubernetes endpoint alone.
 */
export class TalosCluster extends pulumi.ComponentResource {
  /**
   * Admin kubeconfig (secret). In a real update it resolves only after the health check passed, so a
   * k8s.Provider built on it waits for a healthy cluster; in a preview it is the Kubeconfig resource's value
   * as is (known for a running cluster), since no health check runs there.
   */
  public readonly kubeconfig: pulumi.Output<string>;
  /**
   * The cluster's identity for the Kubernetes provider's `clusterIdentifier` (not secret):
   * `<cluster name>-<first 16 hex digits of the SHA-256 of the Talos cluster id>`. The cluster id is
   * random and generated with the machine secrets, so this changes exactly when the cluster is a new one.
   */
  public readonly clusterIdentifier: pulumi.Output<string>;
  /**
   * The resource that lives exactly as long as the cluster: the machine secrets (created first, deleted
   * last, replaced only when the cluster is). The `deletedWith` target of every in-cluster object.
   */
  public readonly lifetime: pulumi.Resource;
  /** talosconfig for talosctl: endpoints are the control-plane addresses (secret). */
  public readonly talosconfig: pulumi.Output<string>;
  /** The Kubernetes API endpoint (not secret). */
  public readonly endpoint: pulumi.Output<string>;
  /**
   * `true` once the health check passed (not secret); never resolves when it fails. Unknown in a preview,
   * where no check runs.
   */
  public readonly healthy: pulumi.Output<boolean>;

  constructor(name: string, args: TalosClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    // The stack's rules live in config/ (castle check and the program apply them before anything is
    // registered); here only what this component cannot work without.
    const hostnames = new Set(args.nodes.map((n) => n.hostname));
    if (!args.nodes.some((n) => n.role === "controlPlane") || hostnames.size !== args.nodes.length) {
      throw new Error(`TalosCluster "${name}": needs at least one control plane and one hostname per node`);
    }
    super("castle:index:TalosCluster", name, {}, opts);

    const controlPlanes = args.nodes.filter((n) => n.role === "controlPlane");
    const workers = args.nodes.filter((n) => n.role === "worker");
    const first = controlPlanes[0] as TalosClusterNode;
    const controlPlaneIps = controlPlanes.map((n) => n.ip);

    const secrets = new talos.machine.Secrets(`${name}-secrets`, { talosVersion: args.contract }, { parent: this });
    // The admin client key grants full control of every node: secret wherever it is passed, whether or
    // not the provider's own marking of the nested `clientKey` reaches this program.
    const clientConfiguration = pulumi.secret(secrets.clientConfiguration);

    // One configuration per node rather than per role: hostname and address are in the generated
    // config itself, so what is applied to a node is exactly one invoke's output (and what
    // `castle render` shows), and a patch Talos refuses fails before anything is applied.
    // Generation is local to the provider (no network), so N invokes cost little.
    const applies = new Map<string, talos.machine.ConfigurationApply>();
    for (const node of args.nodes) {
      const nodePatches = pulumi.output(args.installerImage).apply((installerImage) =>
        renderNodePatches(node, {
          installDisk: args.installDisk,
          installerImage,
          network: args.network,
          allowSchedulingOnControlPlanes: args.allowSchedulingOnControlPlanes,
        }),
      );
      const extra = node.role === "controlPlane" ? (args.controlPlanePatches ?? []) : [];
      const configPatches = pulumi
        .all([nodePatches, ...extra])
        .apply(([patches, ...more]) => [...(patches as string[]), ...(more as string[])]);
      const config = talos.machine.getConfigurationOutput(
        {
          clusterName: args.clusterName,
          clusterEndpoint: args.clusterEndpoint,
          machineSecrets: secrets.machineSecrets,
          machineType: node.role === "controlPlane" ? "controlplane" : "worker",
          talosVersion: args.contract,
          kubernetesVersion: args.kubernetesVersion,
          configPatches,
          docs: false,
          examples: false,
        },
        { parent: this },
      );
      applies.set(
        node.hostname,
        new talos.machine.ConfigurationApply(
          `${name}-${node.hostname}`,
          {
            node: node.ip,
            clientConfiguration,
            machineConfigurationInput: config.machineConfiguration,
            applyMode: CONFIG_APPLY_MODE,
          },
          { parent: this, dependsOn: [node.vm] },
        ),
      );
    }

    // Bootstrap etcd once, on the first control plane's own address (the VIP does not exist yet).
    const bootstrap = new talos.machine.Bootstrap(
      `${name}-bootstrap`,
      { node: first.ip, clientConfiguration },
      { parent: this, dependsOn: [applies.get(first.hostname) as pulumi.Resource] },
    );

    const kubeconfig = new talos.cluster.Kubeconfig(
      `${name}-kubeconfig`,
      { node: first.ip, clientConfiguration },
      { parent: this, dependsOn: [bootstrap] },
    );

    // The health check runs only in a real update (`pulumi up`), never in a preview: an invoke whose
    // dependencies all have IDs runs during a preview too, and on a running cluster this one would check
    // the live nodes for up to its timeout, failing the preview on one NotReady node. Its timeout is
    // explicit (the provider's `timeouts.read`, the deadline of the whole check).
    const realUpdate = !pulumi.runtime.isDryRun();
    const health = realUpdate
      ? talos.cluster.getHealthOutput(
          {
            clientConfiguration,
            controlPlaneNodes: controlPlaneIps,
            workerNodes: workers.map((n) => n.ip),
            endpoints: controlPlaneIps,
            timeouts: { read: `${args.healthTimeoutSeconds}s` },
          },
          { parent: this, dependsOn: [kubeconfig, ...applies.values()] },
        )
      : undefined;

    const talosconfig = talos.client.getConfigurationOutput(
      {
        clusterName: args.clusterName,
        clientConfiguration,
        endpoints: controlPlaneIps,
        nodes: args.nodes.map((n) => n.ip),
      },
      { parent: this },
    );

    // In an update the kubeconfig waits for the health check, so nothing reaches the Kubernetes API of an
    // unhealthy cluster. In a preview it must stay known for a running cluster: pulumi-kubernetes shows
    // every object of a provider with an unknown kubeconfig as replaced.
    this.kubeconfig = pulumi.secret(
      health ? pulumi.all([kubeconfig.kubeconfigRaw, health.id]).apply(([raw]) => raw) : kubeconfig.kubeconfigRaw,
    );
    this.lifetime = secrets;
    // A digest of a random id tells nothing about the secrets it was generated with.
    this.clusterIdentifier = pulumi.unsecret(
      secrets.machineSecrets.apply(
        (machineSecrets) =>
          `${args.clusterName}-${createHash("sha256").update(machineSecrets.cluster.id).digest("hex").slice(0, 16)}`,
      ),
    );
    this.talosconfig = pulumi.secret(talosconfig.talosConfig);
    this.endpoint = pulumi.output(args.clusterEndpoint);
    // The health result is secret only because its inputs carry the client key; `true` reveals nothing.
    this.healthy = health
      ? pulumi.unsecret(health.id.apply(() => true))
      : (pulumi.output(pulumi.unknown) as pulumi.Output<boolean>);

    this.registerOutputs({
      kubeconfig: this.kubeconfig,
      talosconfig: this.talosconfig,
      endpoint: this.endpoint,
      healthy: this.healthy,
      clusterIdentifier: this.clusterIdentifier,
    });
  }
}
