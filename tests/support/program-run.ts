/**
 * Runs the whole castle program for a stack, as `pulumi up` would, under the mock runtime: the stack's
 * own Pulumi.<stack>.yaml as Pulumi config, the Infisical stand-in serving sentinel secret values, and
 * the offline provider model. Each call starts a fresh mock runtime.
 */
import path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { readStackFile } from "../../config/load";
import { InfisicalStandIn } from "../../offline/infisical-stand-in";
import { type Harness, type MockOptions, settle, startMocks, withoutSourceMaps } from "../../offline/mock-runtime";
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
   * What Proxmox holds, by VM ID (on the node the stack names): `getVmLegacy` answers these, and
   * "does not exist" for every other ID. Default: no VM at all.
   */
  proxmoxVms?: Record<number, { name: string; tags: string[] }>;
  /** Every `getVmLegacy` fails with this text (as the engine passes a provider error). */
  proxmoxError?: string;
}

/** The invoke token of the Proxmox provider's single-VM read. */
export const GET_VM = "proxmoxve:index/getVmLegacy:getVmLegacy";

/** An invoke failure as the engine hands it to the SDK: a gRPC error whose `details` is the provider's text. */
export function engineError(details: string): Error {
  return Object.assign(new Error(details), { details });
}

/** PVE's answer for a VM ID with no VM on that node, as the provider reports it. */
export function vmDoesNotExist(nodeName: string, vmId: number): Error {
  return engineError(
    `invocation of ${GET_VM} returned an error: the requested resource does not exist (nodes/${nodeName}/qemu-server/${vmId}.conf)`,
  );
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
        "pulumi:pulumi:StackReference": () => ({ outputs: options.previousOutputs ?? {}, secretOutputNames: [] }),
      },
      invokes: {
        [GET_VM]: (inputs) => {
          const nodeName = String(inputs.nodeName);
          const vmId = Number(inputs.vmId);
          if (options.proxmoxError !== undefined) throw engineError(options.proxmoxError);
          const vm = options.proxmoxVms?.[vmId];
          if (vm === undefined) throw vmDoesNotExist(nodeName, vmId);
          return { id: String(vmId), nodeName, vmId, name: vm.name, tags: vm.tags };
        },
      },
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
