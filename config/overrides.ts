/**
 * Where CI, not the stack file, decides which hosts the program talks to with its credentials. A pull
 * request can edit `Pulumi.<stack>.yaml`; it cannot edit the CI environment.
 *
 * - `INFISICAL_SITE_URL` replaces `castle:infisical.siteUrl` for the program's own fetch and for
 *   `castle doctor` (credentialsFromEnv in infisical-credentials.ts). The ClusterSecretStore keeps the stack's
 *   value: the cluster reaches Infisical by its own path, and the override may be a local tunnel.
 * - `PROXMOX_VE_ENDPOINT` replaces `castle:proxmox.endpoint` for the Proxmox provider, the guard's
 *   reads included (here).
 */
import { CastleConfigError } from "./load";
import { type CastleConfig, ProxmoxSchema } from "./schema";

/** Environment variables that override a stack's hosts. */
const HOST_ENV = {
  infisicalSiteUrl: "INFISICAL_SITE_URL",
  /** The name the Proxmox provider itself reads; here it overrides the stack file's endpoint. */
  proxmoxEndpoint: "PROXMOX_VE_ENDPOINT",
} as const;

/** `PROXMOX_VE_ENDPOINT`, validated like `castle:proxmox.endpoint`; undefined when unset. */
function proxmoxEndpointFromEnv(stack: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
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

/** The stack's configuration with the Proxmox endpoint the environment sets. Throws on an invalid one. */
export function withHostOverrides(
  stack: string,
  config: CastleConfig,
  env: NodeJS.ProcessEnv = process.env,
): CastleConfig {
  const endpoint = proxmoxEndpointFromEnv(stack, env);
  return endpoint === undefined ? config : { ...config, proxmox: { ...config.proxmox, endpoint } };
}
