/**
 * Plugin identity shared by every binding, as the generated `@pulumiverse/talos` SDK passes it
 * (sdk/nodejs/utilities.ts `resourceOptsDefaults`). The engine uses `version` and
 * `pluginDownloadURL` to find (or download) `pulumi-resource-talos`.
 */
import type * as pulumi from "@pulumi/pulumi";

/** The `talos` provider plugin release these bindings are written against (pulumiverse/pulumi-talos v0.8.1). */
export const PLUGIN_VERSION = "0.8.1";
/** Where the engine downloads the plugin from: the GitHub releases of pulumiverse/pulumi-talos. */
export const PLUGIN_DOWNLOAD_URL = "github://api.github.com/pulumiverse";

/** The options every resource and invoke starts from; options given by the caller win. */
export function resourceOptsDefaults(): Pick<pulumi.ResourceOptions, "version" | "pluginDownloadURL"> {
  return { version: PLUGIN_VERSION, pluginDownloadURL: PLUGIN_DOWNLOAD_URL };
}
