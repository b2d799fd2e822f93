/**
 * What an Infisical fetch is about and what a failed one reports: the stack's settings, the five secrets
 * in the order they are reported, the kind of failure and, for missing or invalid secrets, each secret
 * by name. Shared by the credentials, the fetch, its messages and `castle doctor`.
 */
import type { CastleConfig } from "./schema";
import type { CastleSecretValues } from "./secrets";

/** The `castle:infisical` settings of a stack. */
export type InfisicalSettings = CastleConfig["infisical"];

/** The five secrets every stack needs, in the order they are reported. */
export const SECRET_ROLES: readonly (keyof CastleSecretValues)[] = [
  "secretboxKey",
  "proxmoxTokenId",
  "proxmoxTokenSecret",
  "esoClientId",
  "esoClientSecret",
];

/** The Git credential's identity: needed only when `castle:gitops.credentials` is set. */
export const GITOPS_SECRET_ROLES: readonly (keyof CastleSecretValues)[] = ["gitopsClientId", "gitopsClientSecret"];

/** The secrets a stack reads from the castle's folder, in the order they are reported. */
export function secretRolesOf(config: Pick<CastleConfig, "gitops">): readonly (keyof CastleSecretValues)[] {
  return config.gitops?.credentials ? [...SECRET_ROLES, ...GITOPS_SECRET_ROLES] : SECRET_ROLES;
}

/** What kind of failure an InfisicalError reports. */
export type InfisicalFailure =
  | "credentials" // missing environment variables, or Infisical rejected the identity (401)
  | "access" // the identity may not read that project/environment/folder (403)
  | "not-found" // project, environment or folder does not exist (404)
  | "bad-request" // 400 / 422
  | "rate-limited" // 429
  | "server" // 5xx
  | "unreachable" // no connection, connection dropped
  | "timeout" // the deadline passed
  | "bad-reply" // a 2xx reply that is not what the API returns
  | "secrets" // missing or invalid secrets
  | "config"; // a bad setting (site URL)

/** One secret that is missing or unusable. */
export interface SecretProblem {
  /** The secret's name in Infisical. */
  name: string;
  /** Which of the castle's secrets it is. */
  role: keyof CastleSecretValues;
  /** What is wrong with it (never its value). */
  problem: string;
}

/** Fetching the castle's secrets failed. The message never contains a secret value or the client secret. */
export class InfisicalError extends Error {
  constructor(
    message: string,
    readonly failure: InfisicalFailure,
    /** For `failure === "secrets"`: every secret that is missing or invalid. */
    readonly secretProblems: readonly SecretProblem[] = [],
    /** The HTTP status Infisical answered with, when the failure is an HTTP error. */
    readonly status?: number,
  ) {
    super(message);
    this.name = "InfisicalError";
  }
}
