import * as pulumi from "@pulumi/pulumi";
import { resourceOptsDefaults } from "../utilities";

/** An Image Factory schematic; its resource `id` is the schematic ID. */
export class Schematic extends pulumi.CustomResource {
  /** @internal */
  public static readonly __pulumiType = "talos:imageFactory/schematic:Schematic";

  /** Whether `obj` is a Schematic, even across copies of the SDK. */
  public static override isInstance(obj: unknown): obj is Schematic {
    return (obj as { __pulumiType?: string } | undefined)?.__pulumiType === Schematic.__pulumiType;
  }

  /** The schematic YAML. */
  public readonly schematic!: pulumi.Output<string | undefined>;

  constructor(name: string, args?: SchematicArgs, opts?: pulumi.CustomResourceOptions) {
    const resourceInputs: pulumi.Inputs = {};
    resourceInputs.schematic = args?.schematic;
    opts = pulumi.mergeOptions(resourceOptsDefaults(), opts);
    super(Schematic.__pulumiType, name, resourceInputs, opts);
  }
}

/** Arguments of {@link Schematic}. */
export interface SchematicArgs {
  /** The schematic YAML; empty means the vanilla schematic. */
  schematic?: pulumi.Input<string>;
}
