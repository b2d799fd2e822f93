import * as pulumi from "@pulumi/pulumi";
import type { ClientConfiguration, ClientConfigurationArgs } from "../types";
import { resourceOptsDefaults } from "../utilities";

/** Bootstraps etcd on one control-plane node (once per cluster). */
export class Bootstrap extends pulumi.CustomResource {
  /** @internal */
  public static readonly __pulumiType = "talos:machine/bootstrap:Bootstrap";

  /** Whether `obj` is a Bootstrap, even across copies of the SDK. */
  public static override isInstance(obj: unknown): obj is Bootstrap {
    return (obj as { __pulumiType?: string } | undefined)?.__pulumiType === Bootstrap.__pulumiType;
  }

  /** The client configuration data. */
  public readonly clientConfiguration!: pulumi.Output<ClientConfiguration | undefined>;
  /** The client configuration data, write-only (secret). */
  public readonly clientConfigurationWo!: pulumi.Output<ClientConfiguration | undefined>;
  /** The endpoint used to reach the node. */
  public readonly endpoint!: pulumi.Output<string>;
  /** The node bootstrapped. */
  public readonly node!: pulumi.Output<string>;
  /** Operation timeouts. */
  public readonly timeouts!: pulumi.Output<BootstrapTimeouts | undefined>;

  constructor(name: string, args: BootstrapArgs, opts?: pulumi.CustomResourceOptions) {
    const resourceInputs: pulumi.Inputs = {};
    opts = opts || {};
    if ((!args || args.node === undefined) && !opts.urn) {
      throw new Error("Missing required property 'node'");
    }
    resourceInputs.clientConfiguration = args?.clientConfiguration;
    resourceInputs.clientConfigurationWo = args?.clientConfigurationWo
      ? pulumi.secret(args.clientConfigurationWo)
      : undefined;
    resourceInputs.endpoint = args?.endpoint;
    resourceInputs.node = args?.node;
    resourceInputs.timeouts = args?.timeouts;
    opts = pulumi.mergeOptions(resourceOptsDefaults(), opts);
    opts = pulumi.mergeOptions(opts, { additionalSecretOutputs: ["clientConfigurationWo"] });
    super(Bootstrap.__pulumiType, name, resourceInputs, opts);
  }
}

/** `talos:machine/BootstrapTimeouts`. */
export interface BootstrapTimeouts {
  /** Timeout of create (Go duration). */
  create?: pulumi.Input<string>;
}

/** Arguments of {@link Bootstrap}. */
export interface BootstrapArgs {
  /** The client configuration data. */
  clientConfiguration?: pulumi.Input<ClientConfigurationArgs>;
  /** The client configuration data, write-only (kept out of state). */
  clientConfigurationWo?: pulumi.Input<ClientConfigurationArgs>;
  /** The endpoint used to reach the node; default `node`. */
  endpoint?: pulumi.Input<string>;
  /** The control-plane node to bootstrap. */
  node: pulumi.Input<string>;
  /** Operation timeouts. */
  timeouts?: pulumi.Input<BootstrapTimeouts>;
}
