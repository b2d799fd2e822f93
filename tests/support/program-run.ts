/**
 * Runs the whole castle program for a stack, as `pulumi up` would, under the mock runtime: the stack's
 * own Pulumi.<stack>.yaml as Pulumi config, the Infisical stand-in serving sentinel secret values, and
 * the offline provider model. Each call starts a fresh mock runtime.
 */
import path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { readStackFile } from "../../config/load";
import { InfisicalStandIn } from "../../offline/infisical-stand-in";
import {
  type Harness,
  type InvokeFn,
  type MockOptions,
  settle,
  startMocks,
  withoutSourceMaps,
} from "../../offline/mock-runtime";
import { offlineMocks } from "../../offline/offline-provider";
import { testSecretboxKey } from "./keys";

export const PROJECT_DIR = path.resolve(__dirname, "../..");

/** Credentials of the program's own identity; the secret is a sentinel too. */
export const PROGRAM_CLIENT_ID = "castle-program-identity";
export const PROGRAM_CLIENT_SECRET = "SENTINEL-PROGRAM-CLIENT-SECRET-0b1f";

/** Distinctive secret values per stack: none may ever appear outside a secret. */
export function sentinelSecrets(stack: string): Record<string, string> {
  return {
    // 32 bytes that pass the strength rules, told apart by the stack.
    TALOS_SECRETBOX_KEY: testSecretboxKey(`SENTINELKEY-${stack}`),
    PROXMOX_TOKEN_ID: `sentinel-${stack}@pve!castle`,
    PROXMOX_TOKEN_SECRET: `SENTINEL-${stack}-PVE-TOKEN-SECRET`,
    ESO_CLIENT_ID: `SENTINEL-${stack}-ESO-CLIENT-ID`,
    ESO_CLIENT_SECRET: `SENTINEL-${stack}-ESO-CLIENT-SECRET`,
    GITOPS_CLIENT_ID: `SENTINEL-${stack}-GITOPS-CLIENT-ID`,
    GITOPS_CLIENT_SECRET: `SENTINEL-${stack}-GITOPS-CLIENT-SECRET`,
  };
}

export interface ProgramRun {
  harness: Harness;
  outputs: Record<string, pulumi.Output<unknown> | unknown>;
  standIn: InfisicalStandIn;
  sentinels: string[];
  /** Every line the program logged through the Pulumi log (warnings, errors). */
  logs: string[];
  /** What the program threw, if it stopped. */
  error?: Error;
}

export interface RunOptions {
  /** Secret values the stand-in serves. Default `sentinelSecrets(stack)`. */
  values?: Record<string, string>;
  /** The stack's previous outputs (what a running cluster reported last time). Default: none. */
  previousOutputs?: Record<string, unknown>;
  /** Changes to the raw `castle:` keys of the stack file. */
  edit?: (raw: Record<string, unknown>) => void;
  /** Run as `pulumi preview` does (`pulumi.runtime.isDryRun()` is true). Default false: `pulumi up`. */
  preview?: boolean;
  /** Resource IDs per type token, over the offline model's; `""` models a resource a preview has no ID for yet. */
  ids?: MockOptions["ids"];
  /**
   * Another folder the stand-in serves beside the program's (e.g. the cluster's, holding Git
   * credentials), readable by the program's identity too; its values count as sentinels.
   */
  otherFolder?: { secretPath: string; secrets: Record<string, string> };
  /**
   * What Proxmox holds, by VM ID: `getVmsLegacy` lists these (on `node`, by default the node the stack
   * file names for that ID, else pve1). Default: no VM at all.
   */
  proxmoxVms?: Record<number, { name: string; tags: string[]; node?: string }>;
  /** The Proxmox cluster's nodes, by name: whether each is online. Default: the stack file's nodes, all online. */
  proxmoxNodes?: Record<string, boolean>;
  /** The provider's error diagnostic(s) for the VM list: the invoke fails with these, as the engine passes them. */
  proxmoxError?: string | string[];
  /** The provider is not configured yet: the engine answers its invokes with an empty object. */
  proxmoxUnconfigured?: boolean;
}

/** The invoke tokens of the Proxmox provider's cluster-wide reads the guard makes. */
export const GET_VMS = "proxmoxve:index/getVmsLegacy:getVmsLegacy";
export const GET_NODES = "proxmoxve:index/getNodesLegacy:getNodesLegacy";

/** An invoke failure as the engine hands it to the SDK: a gRPC error whose `details` is the provider's text. */
export function engineError(details: string): Error {
  return Object.assign(new Error(details), { details });
}

/**
 * A bridged Terraform data source's error diagnostics, as the program receives them. The chain:
 * - pulumi-terraform-bridge v3.133.0 (what pulumi-proxmoxve v8.3.0 builds with; 8.6.0 assumed alike)
 *   pkg/tfshim/sdk-v2/diagnostics.go `errors`: error diagnostics become a go-multierror list, a warning
 *   is dropped; pkg/tfbridge/provider.go `Invoke`: `invoking %s: %w`.
 * - hashicorp/go-multierror v1.1.1 format.go `ListFormatFunc`: "1 error occurred:\n\t* %s\n\n".
 * - pulumi v3.259.0 pkg/resource/deploy/source_eval.go: `invocation of %v returned an error: %w`; the
 *   Node SDK rejects with `new Error(err.details)` (@pulumi/pulumi 3.276.0 runtime/invoke.js).
 */
export function bridgedInvokeError(token: string, diagnostics: string[]): Error {
  const list =
    diagnostics.length === 1
      ? `1 error occurred:\n\t* ${diagnostics[0]}\n\n`
      : `${diagnostics.length} errors occurred:\n\t${diagnostics.map((d) => `* ${d}`).join("\n\t")}\n\n`;
  return engineError(`invocation of ${token} returned an error: invoking ${token}: ${list}`);
}

/**
 * The Proxmox provider's cluster-wide reads, answered as bpg/terraform-provider-proxmox v0.111.1 answers
 * them (proxmoxtf/datasource/vms.go and nodes.go, the same from v0.101.0 to main of July 2026):
 * - `getVmsLegacy` with no node: `GET /nodes`, then `GET /nodes/<node>/qemu` for each; a node answering
 *   HTTP 595 (not online) is skipped with a warning the bridge drops, so its VMs are simply absent. Each VM:
 *   nodeName, vmId, name ("" when PVE has none), tags split on ";" and sorted, absent when the VM has none,
 *   template, status. The id is a fresh UUID.
 * - `getNodesLegacy`: parallel lists `names` and `onlines` (status == "online"), sorted by name; id "nodes".
 * - An unconfigured provider: the engine answers `{}` (pulumi v3.259.0 pkg/resource/plugin/provider_plugin.go `Invoke`).
 */
function proxmoxInvokes(raw: Record<string, unknown>, options: RunOptions): Record<string, InvokeFn> {
  const placed = new Map<number, string>();
  for (const key of ["controlPlanes", "workers"]) {
    for (const node of (raw[key] as { vmId: number; proxmoxNode: string }[] | undefined) ?? []) {
      placed.set(node.vmId, node.proxmoxNode);
    }
  }
  const nodes = options.proxmoxNodes ?? Object.fromEntries([...new Set(placed.values())].map((n) => [n, true]));
  const names = Object.keys(nodes).sort();
  let uuids = 0;
  return {
    [GET_NODES]: () => {
      if (options.proxmoxUnconfigured) return {};
      return { id: "nodes", names, onlines: names.map((n) => nodes[n] === true) };
    },
    [GET_VMS]: () => {
      if (options.proxmoxUnconfigured) return {};
      if (options.proxmoxError !== undefined) {
        throw bridgedInvokeError(GET_VMS, [options.proxmoxError].flat());
      }
      const vms = Object.entries(options.proxmoxVms ?? {})
        .map(([id, vm]) => ({ vmId: Number(id), node: vm.node ?? placed.get(Number(id)) ?? "pve1", vm }))
        .filter(({ node }) => nodes[node] === true)
        .sort((a, b) => a.node.localeCompare(b.node) || a.vmId - b.vmId)
        .map(({ vmId, node, vm }) => ({
          nodeName: node,
          vmId,
          name: vm.name,
          ...(vm.tags.length > 0 ? { tags: [...vm.tags].sort() } : {}),
          template: false,
          status: "running",
        }));
      uuids += 1;
      return { id: `00000000-0000-4000-8000-${String(uuids).padStart(12, "0")}`, vms };
    },
  };
}

/** Stack config as Pulumi hands it to the program: `castle:<key>` -> string (JSON for objects). */
export function pulumiConfigOf(raw: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(raw).map(([key, value]) => [
      `castle:${key}`,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );
}

export async function runProgram(stack: string, options: RunOptions = {}): Promise<ProgramRun> {
  const values = options.values ?? sentinelSecrets(stack);
  const raw = readStackFile(PROJECT_DIR, stack);
  options.edit?.(raw);
  const infisical = raw.infisical as { projectId: string; environment: string; secretPath: string };
  const other = options.otherFolder;
  const standIn = other
    ? new InfisicalStandIn({
        identities: [
          {
            clientId: PROGRAM_CLIENT_ID,
            clientSecret: PROGRAM_CLIENT_SECRET,
            grants: [
              {
                projectId: infisical.projectId,
                environment: infisical.environment,
                paths: [infisical.secretPath, other.secretPath],
              },
            ],
          },
        ],
        projects: {
          [infisical.projectId]: {
            [infisical.environment]: {
              [infisical.secretPath]: Object.entries(values).map(([key, value]) => ({ key, value })),
              [other.secretPath]: Object.entries(other.secrets).map(([key, value]) => ({ key, value })),
            },
          },
        },
      })
    : InfisicalStandIn.forFolder({
        clientId: PROGRAM_CLIENT_ID,
        clientSecret: PROGRAM_CLIENT_SECRET,
        projectId: infisical.projectId,
        environment: infisical.environment,
        secretPath: infisical.secretPath,
        secrets: values,
      });
  await standIn.start();
  process.env.INFISICAL_CLIENT_ID = PROGRAM_CLIENT_ID;
  process.env.INFISICAL_CLIENT_SECRET = PROGRAM_CLIENT_SECRET;
  process.env.INFISICAL_SITE_URL = standIn.siteUrl;

  const logs: string[] = [];
  const harness = startMocks(
    offlineMocks({
      stack,
      preview: options.preview ?? false,
      ids: options.ids,
      config: pulumiConfigOf(raw),
      states: {
        // The engine's built-in StackReference state: `outputs` and `secretOutputNames` (@pulumi/pulumi
        // 3.276.0 stackReference.js; pulumi/pulumi v3.259.0 pkg/resource/deploy/builtins.go).
        "pulumi:pulumi:StackReference": () => ({ outputs: options.previousOutputs ?? {}, secretOutputNames: [] }),
      },
      invokes: proxmoxInvokes(raw, options),
    }),
  );
  // Without an engine, pulumi.log writes to the console: capture everything printed during the run.
  const methods = ["log", "info", "warn", "error", "debug"] as const;
  const original = methods.map((m) => console[m]);
  for (const m of methods) console[m] = (...args: unknown[]) => logs.push(args.map(String).join(" "));
  const { default: castle } = await import("../../index");
  const sentinels = [...Object.values(values), PROGRAM_CLIENT_SECRET, ...Object.values(other?.secrets ?? {})];
  try {
    const ran = await withoutSourceMaps(async (): Promise<Pick<ProgramRun, "outputs" | "error">> => {
      try {
        const outputs = await castle();
        await settle();
        return { outputs };
      } catch (error) {
        await settle();
        return { outputs: {}, error: error as Error };
      }
    });
    return { harness, standIn, sentinels, logs, ...ran };
  } finally {
    methods.forEach((m, i) => {
      console[m] = original[i];
    });
    await standIn.close();
  }
}
