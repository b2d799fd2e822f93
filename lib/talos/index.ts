/**
 * Thin typed bindings to the `talos` Pulumi provider plugin (pulumiverse/pulumi-talos v0.8.1), shaped
 * like the published `@pulumiverse/talos` SDK so that switching to it is an import change:
 * `talos.machine.Secrets`, `talos.machine.getConfigurationOutput`, `talos.cluster.Kubeconfig`, ...
 * Type tokens, property names and secret handling follow the provider schema; see talos-bindings.test.ts.
 *
 * Without the SDK's package.json the language host does not learn about the plugin up front: the
 * engine installs it on demand from the `version`/`pluginDownloadURL` sent with each registration,
 * or run `pulumi plugin install resource talos 0.8.1 --server github://api.github.com/pulumiverse`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as client from "./client";
import * as cluster from "./cluster";
import * as imageFactory from "./imageFactory";
import * as machine from "./machine";
import { Provider } from "./provider";
import type * as types from "./types";
import { PLUGIN_DOWNLOAD_URL, PLUGIN_VERSION } from "./utilities";

export { Provider, type ProviderArgs } from "./provider";
export { PLUGIN_DOWNLOAD_URL, PLUGIN_VERSION } from "./utilities";
/** `imagefactory` is the module's name in the published Node SDK; `imageFactory` matches the schema tokens. */
export { client, cluster, imageFactory, imageFactory as imagefactory, machine, type types };

pulumi.runtime.registerResourcePackage("talos", {
  version: PLUGIN_VERSION,
  constructProvider: (name: string, type: string, urn: string): pulumi.ProviderResource => {
    if (type !== "pulumi:providers:talos") {
      throw new Error(`unknown provider type ${type}`);
    }
    return new Provider(name, undefined, { urn, pluginDownloadURL: PLUGIN_DOWNLOAD_URL });
  },
});
