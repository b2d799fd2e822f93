import * as pulumi from "@pulumi/pulumi";
import { resourceOptsDefaults } from "./utilities";

/** An explicit `talos` provider; the package needs no credentials (nodes are reached with mTLS material). */
export class Provider extends pulumi.ProviderResource {
  /** @internal */
  public static readonly __pulumiType = "talos";

  /** Whether `obj` is a talos Provider, even across copies of the SDK. */
  public static override isInstance(obj: unknown): obj is Provider {
    return (obj as { __pulumiType?: string } | undefined)?.__pulumiType === `pulumi:providers:${Provider.__pulumiType}`;
  }

  /** The Image Factory URL used for schematics. */
  public readonly imageFactoryUrl!: pulumi.Output<string | undefined>;

  constructor(name: string, args?: ProviderArgs, opts?: pulumi.ResourceOptions) {
    const resourceInputs: pulumi.Inputs = {};
    resourceInputs.imageFactoryUrl = args?.imageFactoryUrl;
    opts = pulumi.mergeOptions(resourceOptsDefaults(), opts);
    super(Provider.__pulumiType, name, resourceInputs, opts);
  }
}

/** Arguments of {@link Provider}. */
export interface ProviderArgs {
  /** Image Factory URL for schematics; default https://factory.talos.dev. */
  imageFactoryUrl?: pulumi.Input<string>;
}
