/**
 * The castle's Talos image, as pure functions: the Image Factory schematic, the name the disk image gets
 * on a Proxmox datastore, and the importable URL of that image. The Image Factory path rules are those of
 * siderolabs/image-factory `internal/profile/profile.go` (`ParseFromPath`); the file-name and content-type
 * rules those of Proxmox VE for `import` content, as `@muhlba91/pulumi-proxmoxve` 8.6.0 exposes them.
 */

/** The extension every castle image carries: Proxmox talks to the node through it (shutdown, fstrim). */
const QEMU_GUEST_AGENT_EXTENSION = "siderolabs/qemu-guest-agent";

/** An official Image Factory system extension name, e.g. `siderolabs/iscsi-tools`. */
const EXTENSION_NAME = /^siderolabs\/[a-z0-9-]+$/;

/**
 * The Image Factory schematic YAML for the castle's image: `siderolabs/qemu-guest-agent` plus `extensions`,
 * sorted and de-duplicated, so the same set always gives the same text and therefore the same schematic ID
 * (the ID is derived from the content).
 */
export function schematicYaml(extensions: string[]): string {
  const bad = extensions.filter((e) => !EXTENSION_NAME.test(e));
  if (bad.length > 0) {
    throw new Error(
      `schematic: ${bad.map((e) => JSON.stringify(e)).join(", ")} ${bad.length === 1 ? "is not an" : "are not"} official extension name${bad.length === 1 ? "" : "s"}: expected siderolabs/<name> such as siderolabs/iscsi-tools`,
    );
  }
  const all = [...new Set([QEMU_GUEST_AGENT_EXTENSION, ...extensions])].sort();
  return [
    "customization:",
    "  systemExtensions:",
    "    officialExtensions:",
    ...all.map((e) => `      - ${e}`),
    "",
  ].join("\n");
}

export type TalosArchitecture = "amd64" | "arm64";

/**
 * Where the Talos image goes. The disk is imported with `importFrom`, which needs an uncompressed image of
 * content type `import` (PVE cannot decompress into `import`, and cannot decompress xz at all), and which,
 * unlike `fileId`, needs no SSH access to the Proxmox nodes and is not ForceNew.
 */
export const IMAGE_CONTENT_TYPE = "import";

/** Characters PVE accepts in a storage file name, and the extensions it accepts for `import` content. */
const IMPORT_FILE_NAME = /^[A-Za-z0-9._+=-]+\.(qcow2|raw|vmdk|ova|ovf)$/;

export interface ImageNameInput {
  clusterName: string;
  schematicId: string;
  talosVersion: string;
  architecture: TalosArchitecture;
}

/**
 * The image's file name on the datastore:
 * `talos-<cluster>-<first 12 of schematic>-<version>-nocloud-<arch>.qcow2`.
 *
 * - Schematic, version and architecture make a new image a new file, never an overwrite of one a VM came from.
 * - The cluster name keeps blue and green apart on a shared datastore or a shared Proxmox node: each stack
 *   owns its file, so destroying one color never deletes the other color's image.
 * - `.qcow2` because PVE requires a disk-image extension for `import` content (`.img` is only for `iso`).
 */
export function imageFileName(input: ImageNameInput): string {
  if (!/^[A-Za-z0-9._-]{12,}$/.test(input.schematicId)) {
    throw new Error(
      `Talos image: schematic ID ${JSON.stringify(input.schematicId)} is not an Image Factory schematic ID (at least 12 letters or digits)`,
    );
  }
  const name = `talos-${input.clusterName}-${input.schematicId.slice(0, 12)}-${input.talosVersion}-nocloud-${input.architecture}.qcow2`;
  if (!IMPORT_FILE_NAME.test(name)) {
    throw new Error(
      `Talos image: file name ${JSON.stringify(name)} has characters Proxmox does not accept in a file name (letters, digits, . _ - + = only)`,
    );
  }
  return name;
}

/**
 * The URL of the uncompressed nocloud qcow2 image, from the disk image URL Image Factory reports
 * (`…/image/<schematic>/<version>/nocloud-<arch>.raw.xz`). Image Factory serves every disk format and
 * compression of a platform under the same directory (`<platform>-<arch>.<raw|qcow2>[.xz|.gz|.zst]`);
 * the qcow2 is compact (it stores only the blocks in use, not the whole disk), so it is a small download that
 * PVE can import as is.
 */
export function importableImageUrl(diskImageUrl: string, architecture: TalosArchitecture): string {
  let url: URL;
  try {
    url = new URL(diskImageUrl);
  } catch {
    throw new Error(`Talos image: disk image URL ${JSON.stringify(diskImageUrl)} is not an absolute URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new Error(`Talos image: disk image URL ${diskImageUrl} must use https (Proxmox downloads only http(s))`);
  }
  const segments = url.pathname.split("/");
  const last = segments.pop() ?? "";
  const match = /^(.+)\.(raw|qcow2)(\.(xz|gz|zst))?$/.exec(last);
  const expected = `nocloud-${architecture}`;
  if (!match || match[1] !== expected) {
    throw new Error(
      `Talos image: disk image URL ${diskImageUrl} is not the ${expected} disk image (expected a path ending in ${expected}.raw.xz, as Image Factory reports for platform nocloud): the castle's VMs read their network settings from the nocloud cloud-init drive`,
    );
  }
  url.pathname = [...segments, `${expected}.qcow2`].join("/");
  return url.toString();
}
