/**
 * What the providers would answer, modelled offline for the mock runtime: `castle render`, the
 * deployment benchmark and the whole-program tests run the real program against these answers.
 *
 * Nothing here reaches a network. Values that a real run gets from Talos or Image Factory are either
 * computed the way the service computes them (the schematic ID is the SHA-256 of the schematic as Image
 * Factory re-serialises it) or clearly marked placeholders.
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import type { InvokeFn, MockOptions, StateFn } from "./mock-runtime";

/** Image Factory's default host: where `getUrls` points unless the talos provider sets another. */
export const IMAGE_FACTORY_HOST = "factory.talos.dev";

/** A value that only a real deployment knows. */
export const placeholder = (what: string) => `<${what}: known after deployment>`;

/**
 * The schematic ID Image Factory gives a schematic: SHA-256 of its YAML as Go's yaml.v3 marshals it
 * (4-space indentation). Reproduces the published IDs of the vanilla schematic
 * (376567988ad3...) and of the qemu-guest-agent one (ce4c980550dd...).
 */
export function imageFactorySchematicId(schematicYaml: string): string {
  const document = parse(schematicYaml) as {
    customization?: { systemExtensions?: { officialExtensions?: string[] } };
  };
  const extensions = document?.customization?.systemExtensions?.officialExtensions ?? [];
  const canonical =
    extensions.length === 0
      ? "customization: {}\n"
      : `customization:\n    systemExtensions:\n        officialExtensions:\n${extensions.map((e) => `            - ${e}\n`).join("")}`;
  return createHash("sha256").update(canonical).digest("hex");
}

const str = (value: unknown) => (typeof value === "string" ? value : "");

/**
 * Image Factory URLs as the talos provider's `getUrls` builds them (siderolabs/terraform-provider-talos
 * v0.11.0 pkg/talos/talos_image_factory_urls_data_source.go `Read`, with the platform table of
 * siderolabs/talos pkg/machinery v1.13.0 platforms/platforms.go): `v` is prefixed to the version, the
 * architecture defaults to amd64; `metal` gets every URL, a cloud platform only those of its boot methods
 * (nocloud: disk image, ISO and PXE, with Secure Boot variants; no kernel, initramfs or UKI, which stay
 * absent). Other platforms are not modelled: the castle uses nocloud.
 */
function factoryUrls(inputs: Record<string, unknown>): Record<string, string> {
  const id = str(inputs.schematicId);
  const version = `v${str(inputs.talosVersion).replace(/^v/, "")}`;
  const platform = str(inputs.platform);
  const arch = str(inputs.architecture) || "amd64";
  const base = `https://${IMAGE_FACTORY_HOST}/image/${id}/${version}`;
  const installer = `${IMAGE_FACTORY_HOST}/${platform}-installer/${id}:${version}`;
  const installerSecureboot = `${IMAGE_FACTORY_HOST}/${platform}-installer-secureboot/${id}:${version}`;
  if (platform === "nocloud") {
    return {
      installer,
      installerSecureboot,
      diskImage: `${base}/${platform}-${arch}.raw.xz`,
      diskImageSecureboot: `${base}/${platform}-${arch}-secureboot.raw.xz`,
      iso: `${base}/${platform}-${arch}.iso`,
      isoSecureboot: `${base}/${platform}-${arch}-secureboot.iso`,
      pxe: `https://pxe.${IMAGE_FACTORY_HOST}/pxe/${id}/${version}/${platform}-${arch}`,
    };
  }
  if (platform === "metal") {
    return {
      installer,
      installerSecureboot,
      iso: `${base}/metal-${arch}.iso`,
      isoSecureboot: `${base}/metal-${arch}-secureboot.iso`,
      diskImage: `${base}/metal-${arch}.raw.zst`,
      diskImageSecureboot: `${base}/metal-${arch}-secureboot.raw.zst`,
      pxe: `https://pxe.${IMAGE_FACTORY_HOST}/pxe/${id}/${version}/metal-${arch}`,
      kernel: `${base}/kernel-${arch}`,
      kernelCommandLine: `${base}/cmdline-metal-${arch}`,
      initramfs: `${base}/initramfs-${arch}.xz`,
      uki: `${base}/metal-${arch}-secureboot-uki.efi`,
    };
  }
  throw new Error(`offline model: Image Factory URLs of platform ${JSON.stringify(platform)} are not modelled`);
}

const clientConfiguration = {
  caCertificate: placeholder("Talos CA certificate"),
  clientCertificate: placeholder("Talos admin client certificate"),
  clientKey: placeholder("Talos admin client key"),
};

/**
 * Answers of the talos provider's invokes (siderolabs/terraform-provider-talos v0.11.0, pkg/talos/):
 * ids as each `Read` sets them: `getUrls` keeps its null id (""), `getConfiguration` and the client
 * configuration take the cluster name, the health check is "cluster_health".
 */
export const offlineInvokes: Record<string, InvokeFn> = {
  // talos_image_factory_urls_data_source.go
  "talos:imageFactory/getUrls:getUrls": (inputs) => ({
    ...inputs,
    id: "",
    urls: factoryUrls(inputs),
  }),
  // talos_machine_configuration_data_source.go: `state.ID = state.ClusterName`
  "talos:machine/getConfiguration:getConfiguration": (inputs) => ({
    ...inputs,
    id: str(inputs.clusterName),
    machineConfiguration: placeholder(`${str(inputs.machineType)} machine configuration rendered by Talos`),
  }),
  // talos_cluster_health_data_source.go: `state.ID = "cluster_health"`
  "talos:cluster/getHealth:getHealth": (inputs) => ({ ...inputs, id: "cluster_health" }),
  // talos_client_configuration_data_source.go: `state.ID = state.ClusterName`
  "talos:client/getConfiguration:getConfiguration": (inputs) => ({
    ...inputs,
    id: str(inputs.clusterName),
    talosConfig: placeholder("talosconfig"),
  }),
};

/**
 * Outputs that the providers compute, for the resources whose outputs the program reads. Shapes from
 * siderolabs/terraform-provider-talos v0.11.0 pkg/talos/talos_machine_secrets_resource.go (the model's
 * `machine_secrets` and `client_configuration`), talos_cluster_kubeconfig_resource.go (`kubeconfig_raw`)
 * and talos_machine_configuration_apply_resource.go (`machine_configuration`); values are placeholders.
 */
export const offlineStates: Record<string, StateFn> = {
  "talos:machine/secrets:Secrets": () => ({
    clientConfiguration,
    machineSecrets: {
      cluster: { id: placeholder("Talos cluster id"), secret: placeholder("Talos cluster secret") },
      note: placeholder("machine secrets generated by the talos provider"),
    },
  }),
  "talos:cluster/kubeconfig:Kubeconfig": () => ({ kubeconfigRaw: placeholder("admin kubeconfig") }),
  "talos:machine/configurationApply:ConfigurationApply": () => ({
    machineConfiguration: placeholder("applied machine configuration"),
  }),
};

/**
 * Resource IDs the providers would assign, where the program uses them: the schematic's is its ID
 * (talos_image_factory_schematic_resource.go, `config.ID = schematicID`), a downloaded file's is
 * `<datastore>:<content type>/<file name>` (bpg/terraform-provider-proxmox v0.111.1
 * fwprovider/nodes/resource_download_file.go `Create`; assumed unchanged in the version 8.6.0 bridges).
 */
export const offlineIds: Record<string, (args: pulumi.runtime.MockResourceArgs) => string> = {
  "talos:imageFactory/schematic:Schematic": (args) => imageFactorySchematicId(str(args.inputs.schematic)),
  "proxmoxve:download/file:File": (args) =>
    `${str(args.inputs.datastoreId)}:${str(args.inputs.contentType)}/${str(args.inputs.fileName)}`,
};

/** Mock options that model every provider the castle uses. */
export function offlineMocks(options: MockOptions = {}): MockOptions {
  return {
    ...options,
    invokes: { ...offlineInvokes, ...options.invokes },
    states: { ...offlineStates, ...options.states },
    ids: { ...offlineIds, ...options.ids },
  };
}
