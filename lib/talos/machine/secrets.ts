import * as pulumi from "@pulumi/pulumi";
import type { ClientConfiguration, MachineSecrets } from "../types";
import { resourceOptsDefaults } from "../utilities";

/** Generates the cluster's machine secrets (CAs, keys, tokens) and the talosctl client configuration. */
export class Secrets extends pulumi.CustomResource {
  /** @internal */
  public static readonly __pulumiType = "talos:machine/secrets:Secrets";

  /** Whether `obj` is a Secrets, even across copies of the SDK. */
  public static override isInstance(obj: unknown): obj is Secrets {
    return (obj as { __pulumiType?: string } | undefined)?.__pulumiType === Secrets.__pulumiType;
  }

  /** The talosctl client configuration (`clientKey` is secret). */
  public readonly clientConfiguration!: pulumi.Output<ClientConfiguration>;
  /** The secrets bundle (its keys and tokens are secret). */
  public readonly machineSecrets!: pulumi.Output<MachineSecrets>;
  /** The version contract the secrets were generated for. */
  public readonly talosVersion!: pulumi.Output<string>;

  constructor(name: string, args?: SecretsArgs, opts?: pulumi.CustomResourceOptions) {
    const resourceInputs: pulumi.Inputs = {};
    resourceInputs.talosVersion = args?.talosVersion;
    resourceInputs.clientConfiguration = undefined;
    resourceInputs.machineSecrets = undefined;
    opts = pulumi.mergeOptions(resourceOptsDefaults(), opts);
    super(Secrets.__pulumiType, name, resourceInputs, opts);
  }
}

/** Arguments of {@link Secrets}. */
export interface SecretsArgs {
  /** Talos version contract of the secrets, e.g. `v1.13`; lowering it replaces (regenerates) every secret. */
  talosVersion?: pulumi.Input<string>;
}
