/**
 * Where CI, not the stack file, decides which hosts the program talks to with its credentials. A pull
 * request can edit `Pulumi.<stack>.yaml`; it cannot edit the CI environment.
 *
 * - `INFISICAL_SITE_URL` replaces `castle:infisical.siteUrl` for the program's own fetch and for
 *   `castle doctor` (credentialsFromEnv in infisical-credentials.ts). The ClusterSecretStore keeps the stack's
 *   value: the cluster reaches Infisical by its own path, and the override may be a local tunnel.
 * - `PROXMOX_VE_ENDPOINT` replaces `castle:proxmox.endpoint` for the Proxmox provider, the guard's
 *   reads included (here).
 *
 * - `INFISICAL_SECRET_PATH` replaces `castle:infisical.secretPath` for the program's fetch: the preview
 *   identity reads a folder of its own (README, "CI"), never the deploy identity's.
 *
 * In CI (`CASTLE_CI=true`, set by the preview workflow) nothing is overridden silently: both variables
 * must be set, a stack whose hosts differ from them is refused (the preview turns red, so a pull request
 * that moves a host cannot look harmless and take effect on an operator's machine after the merge), and
 * TLS verification cannot be turned off (`castle:proxmox.insecureSkipTlsVerify`,
 * `NODE_TLS_REJECT_UNAUTHORIZED=0`).
 */
import type { z } from "zod";
import { CastleConfigError, type ConfigProblem } from "./load";
import { type CastleConfig, ProxmoxSchema } from "./schema";
import { infisicalFolder } from "./value-kinds";

/** Environment variables that override a stack's hosts. */
const HOST_ENV = {
  infisicalSiteUrl: "INFISICAL_SITE_URL",
  /** The name the Proxmox provider itself reads; here it overrides the stack file's endpoint. */
  proxmoxEndpoint: "PROXMOX_VE_ENDPOINT",
  /** The folder the program's identity reads its secrets from (the preview identity's own folder). */
  secretPath: "INFISICAL_SECRET_PATH",
} as const;

/**
 * The value of `variable`, validated by `schema` like the stack key it replaces (`replaces`); undefined
 * when unset. A refusal never quotes the value: a pasted token or password would be printed with it.
 */
function overrideFromEnv(
  stack: string,
  env: NodeJS.ProcessEnv,
  variable: string,
  schema: z.ZodType<string>,
  replaces: string,
): string | undefined {
  const value = env[variable]?.trim();
  if (value === undefined || value === "") return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new CastleConfigError(stack, "environment", [
      { key: variable, message: `${parsed.error.issues.map((i) => i.message).join("; ")} (it replaces ${replaces})` },
    ]);
  }
  return value;
}

/** The variable the preview workflow sets: CI rules apply (`ciProblems`). */
export const CI_ENV = "CASTLE_CI";

/** Whether the CI rules apply. */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[CI_ENV] === "true";
}

/** `https://host:port` of a URL, `undefined` when it does not parse. */
function origin(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return new URL(value).origin;
  } catch {
    return undefined;
  }
}

/**
 * What CI refuses of a stack (empty outside CI): a host that differs from the environment's, an unset
 * host variable, TLS verification turned off. The environment's hosts are CI settings, not secrets.
 */
export function ciProblems(config: CastleConfig, env: NodeJS.ProcessEnv = process.env): ConfigProblem[] {
  if (!inCi(env)) return [];
  const problems: ConfigProblem[] = [];
  const hosts = [
    ["castle:infisical.siteUrl", HOST_ENV.infisicalSiteUrl, config.infisical.siteUrl],
    ["castle:proxmox.endpoint", HOST_ENV.proxmoxEndpoint, config.proxmox.endpoint],
  ] as const;
  for (const [key, variable, stackValue] of hosts) {
    const fromEnv = env[variable]?.trim();
    if (!fromEnv) {
      problems.push({
        key: variable,
        message: `is not set; in CI (${CI_ENV}=true) the hosts come from the environment: set it on the CI environment`,
      });
      continue;
    }
    const expected = origin(fromEnv);
    const given = origin(stackValue);
    if (expected !== undefined && given !== expected) {
      problems.push({
        key,
        message: `${given ?? "(not a URL)"} differs from ${expected} (${variable} of the CI environment). CI refuses a stack that moves a host rather than override it: the change would take effect on an operator's machine after the merge. Change the host in the CI environment and the stack file together, in a reviewed change`,
      });
    }
  }
  if (config.proxmox.insecureSkipTlsVerify) {
    problems.push({
      key: "castle:proxmox.insecureSkipTlsVerify",
      message: `true: CI (${CI_ENV}=true) always verifies TLS; trust the Proxmox CA on the runner instead`,
    });
  }
  if (env.NODE_TLS_REJECT_UNAUTHORIZED === "0") {
    problems.push({
      key: "NODE_TLS_REJECT_UNAUTHORIZED",
      message: `is 0: CI (${CI_ENV}=true) always verifies TLS; unset it and trust the CA instead (NODE_EXTRA_CA_CERTS)`,
    });
  }
  return problems;
}

/**
 * The stack's configuration with the Proxmox endpoint the environment sets. Throws on an invalid one,
 * and in CI on whatever `ciProblems` finds.
 */
export function withHostOverrides(
  stack: string,
  config: CastleConfig,
  env: NodeJS.ProcessEnv = process.env,
): CastleConfig {
  const problems = ciProblems(config, env);
  if (problems.length > 0) throw new CastleConfigError(stack, "CI environment", problems);
  const endpoint = overrideFromEnv(
    stack,
    env,
    HOST_ENV.proxmoxEndpoint,
    ProxmoxSchema.shape.endpoint,
    "castle:proxmox.endpoint",
  );
  const secretPath = overrideFromEnv(
    stack,
    env,
    HOST_ENV.secretPath,
    infisicalFolder("/castle/preview/blue"),
    "castle:infisical.secretPath",
  );
  if (endpoint === undefined && secretPath === undefined) return config;
  return {
    ...config,
    ...(endpoint === undefined ? {} : { proxmox: { ...config.proxmox, endpoint } }),
    ...(secretPath === undefined ? {} : { infisical: { ...config.infisical, secretPath } }),
  };
}
