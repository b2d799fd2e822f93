import * as pulumi from "@pulumi/pulumi";
import type { ClientConfiguration, ClientConfigurationArgs } from "../types";
import { resourceOptsDefaults } from "../utilities";

/** Renders a talosconfig for talosctl; `talosConfig` stays secret. */
export function getConfigurationOutput(
  args: GetConfigurationOutputArgs,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<GetConfigurationResult> {
  const merged = pulumi.mergeOptions(resourceOptsDefaults(), opts || {}) as pulumi.InvokeOutputOptions;
  return pulumi.runtime.invokeOutput(
    "talos:client/getConfiguration:getConfiguration",
    {
      clientConfiguration: args.clientConfiguration,
      clusterName: args.clusterName,
      endpoints: args.endpoints,
      nodes: args.nodes,
    },
    merged,
  );
}

/** Arguments of {@link getConfigurationOutput}. */
export interface GetConfigurationOutputArgs {
  /** The client configuration data. */
  clientConfiguration: pulumi.Input<ClientConfigurationArgs>;
  /** The cluster name (the talosconfig context). */
  clusterName: pulumi.Input<string>;
  /** Talos API endpoints written into the talosconfig. */
  endpoints?: pulumi.Input<pulumi.Input<string>[]>;
  /** Default nodes written into the talosconfig. */
  nodes?: pulumi.Input<pulumi.Input<string>[]>;
}

/** Result of {@link getConfigurationOutput}. */
export interface GetConfigurationResult {
  /** The client configuration data. */
  readonly clientConfiguration: ClientConfiguration;
  /** The cluster name. */
  readonly clusterName: string;
  /** Endpoints written. */
  readonly endpoints?: string[];
  /** Data source id. */
  readonly id: string;
  /** Nodes written. */
  readonly nodes?: string[];
  /** The talosconfig YAML (secret). */
  readonly talosConfig: string;
}
