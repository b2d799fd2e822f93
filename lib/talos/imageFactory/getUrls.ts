import * as pulumi from "@pulumi/pulumi";
import type { Urls } from "../types";
import { resourceOptsDefaults } from "../utilities";

/** The Image Factory URLs of a schematic at a Talos version. */
export function getUrlsOutput(
  args: GetUrlsOutputArgs,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<GetUrlsResult> {
  const merged = pulumi.mergeOptions(resourceOptsDefaults(), opts || {}) as pulumi.InvokeOutputOptions;
  return pulumi.runtime.invokeOutput(
    "talos:imageFactory/getUrls:getUrls",
    {
      architecture: args.architecture,
      platform: args.platform,
      sbc: args.sbc,
      schematicId: args.schematicId,
      talosVersion: args.talosVersion,
    },
    merged,
  );
}

/** Arguments of {@link getUrlsOutput}. */
export interface GetUrlsOutputArgs {
  /** `amd64` (default) or `arm64`. */
  architecture?: pulumi.Input<string>;
  /** Platform, e.g. `nocloud` or `metal`; excludes `sbc`. */
  platform?: pulumi.Input<string>;
  /** Single-board computer; excludes `platform`. */
  sbc?: pulumi.Input<string>;
  /** The schematic ID. */
  schematicId: pulumi.Input<string>;
  /** Talos release, e.g. `v1.13.9`. */
  talosVersion: pulumi.Input<string>;
}

/** Result of {@link getUrlsOutput}. */
export interface GetUrlsResult {
  /** Architecture. */
  readonly architecture: string;
  /** Data source id. */
  readonly id: string;
  /** Platform. */
  readonly platform?: string;
  /** Single-board computer. */
  readonly sbc?: string;
  /** The schematic ID. */
  readonly schematicId: string;
  /** Talos release. */
  readonly talosVersion: string;
  /** The asset URLs. */
  readonly urls: Urls;
}
