import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { CastleNode } from "../lib/nodes";
import { planImages } from "../lib/placement";
import { IMAGE_CONTENT_TYPE, imageFileName, importableImageUrl, type TalosArchitecture } from "../lib/talos-image";
import { VM_IGNORE_CHANGES, type VmEnvironment, vmSpec } from "../lib/vm-spec";

/** The VMs' shared settings (cluster name, datastore, network...) are `VmEnvironment`'s, documented there. */
export interface ProxmoxNodesArgs extends VmEnvironment {
  /** Talos release of the image, e.g. `v1.13.9`: in the image file name. */
  talosVersion: string;
  /** CPU architecture of the Talos image, `amd64` or `arm64`. */
  architecture: TalosArchitecture;
  /** Image Factory schematic ID (the `id` of the stack's `talos.imageFactory.Schematic`). */
  schematicId: pulumi.Input<string>;
  /**
   * The nocloud disk image URL Image Factory reports for the schematic (`urls.diskImage` of
   * `talos.imageFactory.getUrlsOutput` with platform `nocloud`), `…/nocloud-<arch>.raw.xz`. The component
   * downloads the uncompressed qcow2 next to it, which Proxmox can import without SSH.
   */
  diskImageUrl: pulumi.Input<string>;
  /**
   * The Proxmox nodes the castle may use. Plain (not Input) like the other placement fields: which nodes
   * get a download is decided when the program runs.
   */
  proxmoxNodes: string[];
  /** Datastore receiving the Talos image; it must allow the `import` content type. */
  imageDatastore: string;
  /** Whether `imageDatastore` is shared by all Proxmox nodes: then one download serves every node. */
  imageDatastoreShared: boolean;
  /** The castle's nodes, control planes and workers; one VM each. */
  nodes: CastleNode[];
}

/** A castle node as placed on Proxmox: what later components and stack outputs need. */
export type PlacedNode = Pick<CastleNode, "hostname" | "ip" | "role" | "vmId" | "proxmoxNode">;

/**
 * The castle's Proxmox side: the Talos nocloud image, downloaded onto the Proxmox nodes that host castle
 * VMs (once per node on local storage, once in all on shared storage), and one VM per castle node booting
 * that image with its static address given through cloud-init.
 *
 * It does not build the Proxmox provider (it comes through `opts.provider`/`opts.providers`), does not
 * create the Image Factory schematic (its ID and disk image URL are arguments), and does not configure
 * Talos: the VMs boot into maintenance mode, and TalosCluster applies the machine configuration after them.
 */
export class ProxmoxNodes extends pulumi.ComponentResource {
  /** Each castle VM by hostname; TalosCluster orders each node's configuration apply after its VM. */
  public readonly vms: Record<string, proxmox.VmLegacy>;
  /** Each image download by the Proxmox node holding it (a single entry when the datastore is shared). */
  public readonly images: Record<string, proxmox.download.File>;
  /** The castle nodes as placed, in argument order. */
  public readonly nodes: PlacedNode[];

  constructor(name: string, args: ProxmoxNodesArgs, opts?: pulumi.ComponentResourceOptions) {
    // The stack's rules live in config/; here only what the component cannot work without: child names
    // are keyed by hostname and VM IDs are Proxmox's keys, so neither may repeat.
    if (
      new Set(args.nodes.map((n) => n.hostname)).size !== args.nodes.length ||
      new Set(args.nodes.map((n) => n.vmId)).size !== args.nodes.length
    ) {
      throw new Error(`ProxmoxNodes ${name}: each node needs its own hostname and VM ID`);
    }
    super("castle:index:ProxmoxNodes", name, {}, opts);

    const plan = planImages({
      proxmoxNodes: args.proxmoxNodes,
      vmNodes: args.nodes.map((n) => n.proxmoxNode),
      shared: args.imageDatastoreShared,
    });
    const fileName = pulumi.output(args.schematicId).apply((schematicId) =>
      imageFileName({
        clusterName: args.clusterName,
        schematicId,
        talosVersion: args.talosVersion,
        architecture: args.architecture,
      }),
    );
    const url = pulumi.output(args.diskImageUrl).apply((u) => importableImageUrl(u, args.architecture));

    this.images = {};
    for (const proxmoxNode of plan.downloadNodes) {
      this.images[proxmoxNode] = new proxmox.download.File(
        `${name}-image-${proxmoxNode}`,
        {
          nodeName: proxmoxNode,
          datastoreId: args.imageDatastore,
          contentType: IMAGE_CONTENT_TYPE,
          url,
          fileName,
          // The name is unique per cluster, schematic, version and architecture, so its content never
          // changes. The default `true` compares the URL's Content-Length with the stored size on every
          // refresh and replaces the file when they differ (when the URL reports no size, as generated
          // Image Factory assets may, it only warns); `false` turns that check off.
          overwrite: false,
          // A file of this name can only be this stack's own image (the name carries the cluster name and
          // the schematic), left behind by an interrupted run before Pulumi recorded it: the retry deletes
          // and downloads it again instead of failing on "file already exists".
          overwriteUnmanaged: true,
          // Image Factory builds the image on first request; allow for that on top of the transfer.
          uploadTimeout: 1800,
        },
        // The file name is fixed for a given image, so a replacement (a move of the holder on shared storage)
        // must delete the old file before downloading the new one, or PVE refuses the existing name.
        // Deleting it does not touch VMs: an imported disk is a copy.
        { parent: this, deleteBeforeReplace: true },
      );
    }

    this.vms = {};
    for (const node of args.nodes) {
      const image = this.images[plan.sourceFor[node.proxmoxNode] as string] as proxmox.download.File;
      this.vms[node.hostname] = new proxmox.VmLegacy(`${name}-${node.hostname}`, vmSpec(node, args, image.id), {
        parent: this,
        dependsOn: [image],
        ignoreChanges: [...VM_IGNORE_CHANGES],
      });
    }

    this.nodes = args.nodes.map(({ hostname, ip, role, vmId, proxmoxNode }) => ({
      hostname,
      ip,
      role,
      vmId,
      proxmoxNode,
    }));

    this.registerOutputs({
      nodes: this.nodes,
      vmIds: Object.fromEntries(Object.entries(this.vms).map(([hostname, vm]) => [hostname, vm.vmId])),
      imageIds: Object.fromEntries(Object.entries(this.images).map(([pve, file]) => [pve, file.id])),
    });
  }
}
