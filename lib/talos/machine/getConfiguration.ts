import * as pulumi from "@pulumi/pulumi";
import type { MachineSecrets } from "../types";
import { resourceOptsDefaults } from "../utilities";

/** Generates a machine configuration for a node type; `machineConfiguration` stays secret. */
export function getConfigurationOutput(
  args: GetConfigurationOutputArgs,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<GetConfigurationResult> {
  const merged = pulumi.mergeOptions(resourceOptsDefaults(), opts || {}) as pulumi.InvokeOutputOptions;
  return pulumi.runtime.invokeOutput(
    "talos:machine/getConfiguration:getConfiguration",
    {
      clusterEndpoint: args.clusterEndpoint,
      clusterName: args.clusterName,
      configPatches: args.configPatches,
      docs: args.docs,
      examples: args.examples,
      kubernetesVersion: args.kubernetesVersion,
      machineSecrets: args.machineSecrets,
      machineType: args.machineType,
      talosVersion: args.talosVersion,
    },
    merged,
  );
}

/** Arguments of {@link getConfigurationOutput}. */
export interface GetConfigurationOutputArgs {
  /** The Kubernetes API endpoint, e.g. `https://<vip>:6443`. */
  clusterEndpoint: pulumi.Input<string>;
  /** The cluster name. */
  clusterName: pulumi.Input<string>;
  /** Config patches applied to the generated configuration. */
  configPatches?: pulumi.Input<pulumi.Input<string>[]>;
  /** Include documentation comments; default false. */
  docs?: pulumi.Input<boolean>;
  /** Include examples; default false. */
  examples?: pulumi.Input<boolean>;
  /** Kubernetes version, without a leading v. */
  kubernetesVersion?: pulumi.Input<string>;
  /** The secrets bundle from `Secrets`. */
  machineSecrets: pulumi.Input<MachineSecrets>;
  /** `controlplane` or `worker`. */
  machineType: pulumi.Input<string>;
  /** The version contract, e.g. `v1.13` (does not choose the installed Talos). */
  talosVersion?: pulumi.Input<string>;
}

/** Result of {@link getConfigurationOutput}. */
export interface GetConfigurationResult {
  /** The Kubernetes API endpoint. */
  readonly clusterEndpoint: string;
  /** The cluster name. */
  readonly clusterName: string;
  /** Config patches applied. */
  readonly configPatches?: string[];
  /** Whether documentation comments were included. */
  readonly docs?: boolean;
  /** Whether examples were included. */
  readonly examples?: boolean;
  /** Data source id. */
  readonly id: string;
  /** Kubernetes version. */
  readonly kubernetesVersion?: string;
  /** The generated machine configuration (secret). */
  readonly machineConfiguration: string;
  /** The secrets bundle. */
  readonly machineSecrets: MachineSecrets;
  /** `controlplane` or `worker`. */
  readonly machineType: string;
  /** The version contract. */
  readonly talosVersion?: string;
}
