/**
 * Where CI, not the stack file, decides which hosts the program talks to. A pull request can edit
 * `Pulumi.<stack>.yaml`; it cannot edit the CI environment. So `INFISICAL_SITE_URL` and
 * `PROXMOX_VE_ENDPOINT`, when set, replace `castle:infisical.siteUrl` and `castle:proxmox.endpoint`
 * everywhere the program uses them (the fetch, the ClusterSecretStore, the Proxmox provider).
 */
import { InfisicalError, siteUrlFromEnv } from "./infisical";
import { CastleConfigError } from "./load";
import { type CastleConfig, ProxmoxSchema } from "./schema";

/** Environment variables that override a stack's hosts. */
export const HOST_ENV = {
  infisicalSiteUrl: "INFISICAL_SITE_URL",
  /** The name the Proxmox provider itself reads; here it overrides the stack file's endpoint. */
  proxmoxEndpoint: "PROXMOX_VE_ENDPOINT",
} as const;

/** `PROXMOX_VE_ENDPOINT`, validated like `castle:proxmox.endpoint`; undefined when unset. */
export function proxmoxEndpointFromEnv(stack: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[HOST_ENV.proxmoxEndpoint]?.trim();
  if (value === undefined || value === "") return undefined;
  const parsed = ProxmoxSchema.shape.endpoint.safeParse(value);
  if (!parsed.success) {
    throw new CastleConfigError(stack, "environment", [
      {
        key: HOST_ENV.proxmoxEndpoint,
        message: `${JSON.stringify(value)}: ${parsed.error.issues.map((i) => i.message).join("; ")} (it replaces castle:proxmox.endpoint)`,
      },
    ]);
  }
  return value;
}

/** The stack's configuration with the hosts the environment sets. Throws on an invalid override. */
export function withHostOverrides(
  stack: string,
  config: CastleConfig,
  env: NodeJS.ProcessEnv = process.env,
): CastleConfig {
  let siteUrl: string | undefined;
  try {
    siteUrl = siteUrlFromEnv(env);
  } catch (error) {
    if (!(error instanceof InfisicalError)) throw error;
    throw new CastleConfigError(stack, "environment", [{ key: HOST_ENV.infisicalSiteUrl, message: error.message }]);
  }
  const endpoint = proxmoxEndpointFromEnv(stack, env);
  return {
    ...config,
    infisical: { ...config.infisical, siteUrl: siteUrl ?? config.infisical.siteUrl },
    proxmox: { ...config.proxmox, endpoint: endpoint ?? config.proxmox.endpoint },
  };
}
