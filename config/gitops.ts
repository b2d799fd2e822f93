/**
 * `castle:gitops` as the program uses it: the path default filled in (`clusters/<clusterName>`), and
 * the names of the Infisical secrets its Git credentials need (for `castle doctor`). Names only: the
 * program never reads the credentials themselves, ESO does, with the Git credential's own identity.
 */
import type { CastleConfig, GitOpsConfig } from "./schema";

/** `castle:gitops` with every default resolved. */
export type GitOps = GitOpsConfig & { path: string };

/** The stack's GitOps settings with `path` defaulting to `clusters/<clusterName>`, or undefined when Flux is off. */
export function resolveGitOps(config: Pick<CastleConfig, "clusterName" | "gitops">): GitOps | undefined {
  if (!config.gitops) return undefined;
  return { ...config.gitops, path: config.gitops.path ?? `clusters/${config.clusterName}` };
}

/** One secret the Git credentials need in the Git credential's own Infisical folder. */
export interface GitCredentialKey {
  /** The stack key that names it, e.g. `castle:gitops.credentials.token`. */
  configKey: string;
  /** The Infisical secret name, e.g. `FLUX_GIT_TOKEN`. */
  name: string;
}

/**
 * The Infisical secrets (names) the stack's Git credentials need in their own folder
 * (`castle:gitops.secretsPath`), the folder the `flux-system` SecretStore reads: none for a public
 * repository, the token and/or the CA for HTTPS, the identity and known_hosts for SSH. `castle doctor`
 * checks, as the Git credential's identity, that each exists.
 */
export function gitCredentialKeys(config: Pick<CastleConfig, "gitops">): GitCredentialKey[] {
  const credentials = config.gitops?.credentials;
  if (!credentials) return [];
  const keys: GitCredentialKey[] = [];
  for (const field of ["token", "sshIdentity", "sshKnownHosts", "caCert"] as const) {
    const name = credentials[field];
    if (name) keys.push({ configKey: `castle:gitops.credentials.${field}`, name });
  }
  return keys;
}
