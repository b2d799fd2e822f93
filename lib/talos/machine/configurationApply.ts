import * as pulumi from "@pulumi/pulumi";
import type { ClientConfiguration, ClientConfigurationArgs, ConfigurationApplyOnDestroy, Timeouts } from "../types";
import { resourceOptsDefaults } from "../utilities";

/** Applies a machine configuration to a node over the Talos API. */
export class ConfigurationApply extends pulumi.CustomResource {
  /** @internal */
  public static readonly __pulumiType = "talos:machine/configurationApply:ConfigurationApply";

  /** Whether `obj` is a ConfigurationApply, even across copies of the SDK. */
  public static override isInstance(obj: unknown): obj is ConfigurationApply {
    return (obj as { __pulumiType?: string } | undefined)?.__pulumiType === ConfigurationApply.__pulumiType;
  }

  /** The apply mode: auto, reboot, no_reboot, staged or staged_if_needing_reboot. */
  public readonly applyMode!: pulumi.Output<string>;
  /** The client configuration data. */
  public readonly clientConfiguration!: pulumi.Output<ClientConfiguration | undefined>;
  /** The client configuration data, write-only (secret). */
  public readonly clientConfigurationWo!: pulumi.Output<ClientConfiguration | undefined>;
  /** The config patches applied on top of the input. */
  public readonly configPatches!: pulumi.Output<string[] | undefined>;
  /** The endpoint used to reach the node. */
  public readonly endpoint!: pulumi.Output<string>;
  /** The machine configuration after patches (secret). */
  public readonly machineConfiguration!: pulumi.Output<string>;
  /** SHA-256 hex of the applied machine configuration. */
  public readonly machineConfigurationHash!: pulumi.Output<string>;
  /** The machine configuration to apply (secret). */
  public readonly machineConfigurationInput!: pulumi.Output<string | undefined>;
  /** The machine configuration to apply, write-only (secret). */
  public readonly machineConfigurationInputWo!: pulumi.Output<string | undefined>;
  /** The node the configuration is applied to. */
  public readonly node!: pulumi.Output<string>;
  /** What happens to the node when this resource is destroyed. */
  public readonly onDestroy!: pulumi.Output<ConfigurationApplyOnDestroy | undefined>;
  /** The mode actually used (auto or staged for staged_if_needing_reboot). */
  public readonly resolvedApplyMode!: pulumi.Output<string>;
  /** Operation timeouts. */
  public readonly timeouts!: pulumi.Output<Timeouts | undefined>;

  constructor(name: string, args: ConfigurationApplyArgs, opts?: pulumi.CustomResourceOptions) {
    const resourceInputs: pulumi.Inputs = {};
    opts = opts || {};
    if ((!args || args.node === undefined) && !opts.urn) {
      throw new Error("Missing required property 'node'");
    }
    resourceInputs.applyMode = args?.applyMode;
    resourceInputs.clientConfiguration = args?.clientConfiguration;
    resourceInputs.clientConfigurationWo = args?.clientConfigurationWo
      ? pulumi.secret(args.clientConfigurationWo)
      : undefined;
    resourceInputs.configPatches = args?.configPatches;
    resourceInputs.endpoint = args?.endpoint;
    resourceInputs.machineConfigurationInput = args?.machineConfigurationInput
      ? pulumi.secret(args.machineConfigurationInput)
      : undefined;
    resourceInputs.machineConfigurationInputWo = args?.machineConfigurationInputWo
      ? pulumi.secret(args.machineConfigurationInputWo)
      : undefined;
    resourceInputs.node = args?.node;
    resourceInputs.onDestroy = args?.onDestroy;
    resourceInputs.timeouts = args?.timeouts;
    resourceInputs.machineConfiguration = undefined;
    resourceInputs.machineConfigurationHash = undefined;
    resourceInputs.resolvedApplyMode = undefined;
    opts = pulumi.mergeOptions(resourceOptsDefaults(), opts);
    const secretOpts = {
      additionalSecretOutputs: [
        "clientConfigurationWo",
        "machineConfiguration",
        "machineConfigurationInput",
        "machineConfigurationInputWo",
      ],
    };
    opts = pulumi.mergeOptions(opts, secretOpts);
    super(ConfigurationApply.__pulumiType, name, resourceInputs, opts);
  }
}

/** Arguments of {@link ConfigurationApply}: give one of clientConfiguration(Wo) and one of machineConfigurationInput(Wo). */
export interface ConfigurationApplyArgs {
  /** auto (default), reboot, no_reboot, staged or staged_if_needing_reboot. */
  applyMode?: pulumi.Input<string>;
  /** The client configuration data. */
  clientConfiguration?: pulumi.Input<ClientConfigurationArgs>;
  /** The client configuration data, write-only (kept out of state). */
  clientConfigurationWo?: pulumi.Input<ClientConfigurationArgs>;
  /** Config patches (YAML/JSON strategic merge or extra documents) applied on top of the input. */
  configPatches?: pulumi.Input<pulumi.Input<string>[]>;
  /** The endpoint used to reach the node; default `node`. */
  endpoint?: pulumi.Input<string>;
  /** The machine configuration to apply. */
  machineConfigurationInput?: pulumi.Input<string>;
  /** The machine configuration to apply, write-only (kept out of state). */
  machineConfigurationInputWo?: pulumi.Input<string>;
  /** The node (IP or name) the configuration is applied to. */
  node: pulumi.Input<string>;
  /** What happens to the node when this resource is destroyed. */
  onDestroy?: pulumi.Input<ConfigurationApplyOnDestroy>;
  /** Operation timeouts. */
  timeouts?: pulumi.Input<Timeouts>;
}
