import * as pulumi from "@pulumi/pulumi";
import type { ClientConfiguration, ClientConfigurationArgs, ReadTimeouts } from "../types";
import { resourceOptsDefaults } from "../utilities";

/** Waits until the cluster is healthy; the invoke fails when the check fails. */
export function getHealthOutput(
  args: GetHealthOutputArgs,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<GetHealthResult> {
  const merged = pulumi.mergeOptions(resourceOptsDefaults(), opts || {}) as pulumi.InvokeOutputOptions;
  return pulumi.runtime.invokeOutput(
    "talos:cluster/getHealth:getHealth",
    {
      clientConfiguration: args.clientConfiguration,
      controlPlaneNodes: args.controlPlaneNodes,
      endpoints: args.endpoints,
      skipKubernetesChecks: args.skipKubernetesChecks,
      timeouts: args.timeouts,
      workerNodes: args.workerNodes,
    },
    merged,
  );
}

/** Arguments of {@link getHealthOutput}. */
export interface GetHealthOutputArgs {
  /** The client configuration data. */
  clientConfiguration: pulumi.Input<ClientConfigurationArgs>;
  /** Control-plane nodes to check. */
  controlPlaneNodes: pulumi.Input<pulumi.Input<string>[]>;
  /** Talos API endpoints for the check (control-plane node addresses). */
  endpoints: pulumi.Input<pulumi.Input<string>[]>;
  /** Only wait for boot and kubelet, skip Kubernetes component checks; default false. */
  skipKubernetesChecks?: pulumi.Input<boolean>;
  /** Read timeout. */
  timeouts?: pulumi.Input<ReadTimeouts>;
  /** Worker nodes to check. */
  workerNodes?: pulumi.Input<pulumi.Input<string>[]>;
}

/** Result of {@link getHealthOutput}. */
export interface GetHealthResult {
  /** The client configuration data. */
  readonly clientConfiguration: ClientConfiguration;
  /** Control-plane nodes checked. */
  readonly controlPlaneNodes: string[];
  /** Endpoints used. */
  readonly endpoints: string[];
  /** Data source id. */
  readonly id: string;
  /** Whether Kubernetes checks were skipped. */
  readonly skipKubernetesChecks?: boolean;
  /** Read timeout. */
  readonly timeouts?: { read?: string };
  /** Worker nodes checked. */
  readonly workerNodes?: string[];
}
