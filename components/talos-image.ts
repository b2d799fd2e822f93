import * as pulumi from "@pulumi/pulumi";
import * as talos from "../lib/talos";
import { schematicYaml } from "../lib/talos-image";

export interface TalosImageArgs {
  /** Talos release of the image, e.g. `v1.13.9`. */
  talosVersion: string;
  /** CPU architecture, `amd64` or `arm64`. */
  architecture: string;
  /** Official extensions baked in beside `siderolabs/qemu-guest-agent` (always there); default none. */
  extensions?: string[];
}

/**
 * The castle's Talos image: an Image Factory schematic (qemu-guest-agent plus the stack's extensions)
 * and the URLs Image Factory serves for it on the nocloud platform: the disk image ProxmoxNodes
 * downloads and the installer image TalosCluster installs. It does not download anything itself.
 *
 * The schematic was a top-level resource named `talos-image` before this component existed: its alias
 * keeps existing stacks' schematic in place instead of replacing it.
 */
export class TalosImage extends pulumi.ComponentResource {
  /** The schematic ID (content-derived: the same extensions give the same ID). */
  public readonly schematicId: pulumi.Output<string>;
  /** URL of the nocloud disk image (`…/nocloud-<arch>.raw.xz`). */
  public readonly diskImageUrl: pulumi.Output<string>;
  /** The installer image, `factory.talos.dev/nocloud-installer/<schematic>:<version>`. */
  public readonly installerImage: pulumi.Output<string>;

  constructor(name: string, args: TalosImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("castle:index:TalosImage", name, {}, opts);
    const schematic = new talos.imageFactory.Schematic(
      name,
      { schematic: schematicYaml(args.extensions ?? []) },
      { parent: this, aliases: [{ parent: pulumi.rootStackResource }] },
    );
    const urls = talos.imageFactory.getUrlsOutput(
      {
        talosVersion: args.talosVersion,
        schematicId: schematic.id,
        platform: "nocloud",
        architecture: args.architecture,
      },
      { parent: this },
    );
    this.schematicId = schematic.id;
    this.diskImageUrl = urls.urls.diskImage;
    this.installerImage = urls.urls.installer;
    this.registerOutputs({ schematicId: this.schematicId });
  }
}
