import * as pulumi from "@pulumi/pulumi";
import type { ClientConfiguration, ClientConfigurationArgs, KubernetesClientConfiguration } from "../types";
import { resourceOptsDefaults } from "../utilities";

/** Retrieves (and renews) the cluster's admin kubeconfig from a control-plane node. */
export class Kubeconfig extends pulumi.CustomResource {
  /** @internal */
  public static readonly __pulumiType = "talos:cluster/kubeconfig:Kubeconfig";

  /** Whether `obj` is a Kubeconfig, even across copies of the SDK. */
  public static override isInstance(obj: unknown): obj is Kubeconfig {
    return (obj as { __pulumiType?: string } | undefined)?.__pulumiType === Kubeconfig.__pulumiType;
  }

  /** How long before expiry the client certificate is renewed. */
  public readonly certificateRenewalDuration!: pulumi.Output<string>;
  /** The client configuration data. */
  public readonly clientConfiguration!: pulumi.Output<ClientConfiguration>;
  /** The endpoint used to reach the node. */
  public readonly endpoint!: pulumi.Output<string>;
  /** The raw kubeconfig (secret). */
  public readonly kubeconfigRaw!: pulumi.Output<string>;
  /** The Kubernetes client configuration (`clientKey` is secret). */
  public readonly kubernetesClientConfiguration!: pulumi.Output<KubernetesClientConfiguration>;
  /** The control-plane node the kubeconfig comes from. */
  public readonly node!: pulumi.Output<string>;
  /** Operation timeouts. */
  public readonly timeouts!: pulumi.Output<KubeconfigTimeouts | undefined>;

  constructor(name: string, args: KubeconfigArgs, opts?: pulumi.CustomResourceOptions) {
    const resourceInputs: pulumi.Inputs = {};
    opts = opts || {};
    if ((!args || args.clientConfiguration === undefined) && !opts.urn) {
      throw new Error("Missing required property 'clientConfiguration'");
    }
    if ((!args || args.node === undefined) && !opts.urn) {
      throw new Error("Missing required property 'node'");
    }
    resourceInputs.certificateRenewalDuration = args?.certificateRenewalDuration;
    resourceInputs.clientConfiguration = args?.clientConfiguration;
    resourceInputs.endpoint = args?.endpoint;
    resourceInputs.node = args?.node;
    resourceInputs.timeouts = args?.timeouts;
    resourceInputs.kubeconfigRaw = undefined;
    resourceInputs.kubernetesClientConfiguration = undefined;
    opts = pulumi.mergeOptions(resourceOptsDefaults(), opts);
    opts = pulumi.mergeOptions(opts, { additionalSecretOutputs: ["kubeconfigRaw"] });
    super(Kubeconfig.__pulumiType, name, resourceInputs, opts);
  }
}

/** `talos:cluster/KubeconfigTimeouts`. */
export interface KubeconfigTimeouts {
  /** Timeout of create (Go duration). */
  create?: pulumi.Input<string>;
  /** Timeout of update (Go duration). */
  update?: pulumi.Input<string>;
}

/** Arguments of {@link Kubeconfig}. */
export interface KubeconfigArgs {
  /** Renew the client certificate this long before it expires; default `720h`. */
  certificateRenewalDuration?: pulumi.Input<string>;
  /** The client configuration data. */
  clientConfiguration: pulumi.Input<ClientConfigurationArgs>;
  /** The endpoint used to reach the node; default `node`. */
  endpoint?: pulumi.Input<string>;
  /** The control-plane node to read the kubeconfig from. */
  node: pulumi.Input<string>;
  /** Operation timeouts. */
  timeouts?: pulumi.Input<KubeconfigTimeouts>;
}
