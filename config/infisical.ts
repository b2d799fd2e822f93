/**
 * Fetching the castle's secrets from Infisical while the program runs, with the official
 * `@infisical/sdk` (5.0.2): either Universal Auth (a machine identity's client id and secret, taken
 * from the environment) or a short-lived access token given as `INFISICAL_TOKEN` (from
 * `infisical login ... --plain` or an OIDC exchange in CI), with which no login request is made.
 *
 * The SDK validates nothing and can wait for minutes (it retries 429 and network errors with a
 * 1+2+4+8 s backoff, aborts each attempt only after 10 s, and never times out a stalled body), so
 * everything here is checked: an overall deadline over the whole fetch, the shape of every reply,
 * and each secret's value. Errors name the secret names, the folder, the environment, the project
 * and the site, and what to do next. They never contain a secret value or the client secret.
 */
import { clearTimeout as cancelTimer, setTimeout as startTimer } from "node:timers";
import { InfisicalSDK } from "@infisical/sdk";
import { proxmoxTokenIdProblem, secretboxKeyProblem, weakSecretboxKeyProblem } from "../lib/secret-formats";
import { INFISICAL_ENV, type InfisicalCredentials, tokenIdentityId } from "./infisical-credentials";
import { InfisicalError, type InfisicalSettings, SECRET_ROLES, type SecretProblem } from "./infisical-errors";
import { type Context, classify, deadlineFailure, failure, type Stage } from "./infisical-messages";
import { type FetchScope, runInScope } from "./infisical-scope";
import type { CastleSecretValues } from "./secrets";

export interface FetchOptions {
  /** Overall deadline in milliseconds; overrides `settings.timeoutSeconds` (tests use short ones). */
  timeoutMs?: number;
  /** The secrets to read (`secretRolesOf(config)`). Default the five every stack needs (SECRET_ROLES). */
  roles?: readonly (keyof CastleSecretValues)[];
}

/** Per-secret outcome of `diagnoseCastleSecrets`. */
export interface SecretDiagnosis {
  /** The secret's name in Infisical. */
  name: string;
  /** Which of the castle's secrets it is. */
  role: keyof CastleSecretValues;
  /** `"ok"`, or what is wrong (never the value). */
  status: string;
}

export interface CastleSecretsDiagnosis {
  /** One entry per castle secret, in SECRET_ROLES order. */
  secrets: SecretDiagnosis[];
  /**
   * The cluster's identity's credentials, when both were fetched and valid: for `castle doctor` to log
   * in as that identity. Never printed.
   */
  esoCredentials?: { clientId: string; clientSecret: string };
  /** The Git credential's identity's credentials, likewise (only when the stack has Git credentials). */
  gitopsCredentials?: { clientId: string; clientSecret: string };
  /** The identity id the program's access token carries (from the login or INFISICAL_TOKEN). */
  programIdentityId?: string;
  /** Names of every secret in the castle's folder, the castle's five and any other (never values). */
  castleKeyNames?: string[];
  /** Login or list failure; when set, the secrets were not checked. */
  error?: InfisicalError;
  /** HTTP requests sent to Infisical (retries included). */
  httpRequests: number;
}

// ---------------------------------------------------------------------------------------------
// Value checks (pure)

/** Why a fetched value cannot be used for `role`, or undefined. Never quotes the value. */
export function secretValueProblem(role: keyof CastleSecretValues, value: string): string | undefined {
  if (value.length === 0) return "is empty";
  if (value.trim() !== value) return "has leading or trailing whitespace (a pasted line break?)";
  if (role === "secretboxKey") return secretboxKeyProblem(value) ?? weakSecretboxKeyProblem(value);
  if (role === "proxmoxTokenId") return proxmoxTokenIdProblem(value);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The fetch

interface ListedSecret {
  secretKey: string;
  secretValue: string;
  type?: unknown;
  secretValueHidden?: unknown;
}

/** Checks a list reply's shape without quoting any of it. */
function listedSecrets(reply: unknown, ctx: Context): ListedSecret[] {
  const bad = (what: string) =>
    failure(
      ctx,
      "bad-reply",
      `the list reply is not what Infisical returns: ${what}`,
      "check the site URL: it must be the root of an Infisical instance (without /api), not a proxy or login page",
    );
  if (typeof reply !== "object" || reply === null || Array.isArray(reply)) {
    throw bad(
      typeof reply === "string" ? "a text body instead of a JSON object" : `${typeof reply} instead of an object`,
    );
  }
  const secrets = (reply as { secrets?: unknown }).secrets;
  if (!Array.isArray(secrets)) throw bad("no `secrets` array");
  secrets.forEach((item, i) => {
    if (typeof item !== "object" || item === null) throw bad(`secrets[${i}] is not an object`);
    const { secretKey, secretValue } = item as { secretKey?: unknown; secretValue?: unknown };
    if (typeof secretKey !== "string" || typeof secretValue !== "string") {
      throw bad(`secrets[${i}] has no string secretKey and secretValue`);
    }
  });
  return secrets as ListedSecret[];
}

interface Outcome {
  /** Values of the secrets that passed every check. */
  values: Partial<CastleSecretValues>;
  problems: SecretProblem[];
  error?: InfisicalError;
  httpRequests: number;
  /** The identity id the program's access token carries, when it is an identity token. */
  identityId?: string;
  /** Names of every secret listed in the castle's folder (never values). */
  names?: string[];
}

/** Credentials-dependent parts of a message context. */
function credentialContext(
  credentials: InfisicalCredentials,
  names: string,
): Pick<Context, "hidden" | "credentialNames" | "tokenSource"> {
  return credentials.accessToken !== undefined
    ? { hidden: [credentials.accessToken], credentialNames: names, tokenSource: INFISICAL_ENV.accessToken }
    : { hidden: [credentials.clientSecret], credentialNames: names };
}

interface SessionResult<T> {
  value?: T;
  error?: InfisicalError;
  httpRequests: number;
  /** The access token the session used (from the login, or the one given). Never printed. */
  accessToken?: string;
}

/**
 * Runs `steps` with an SDK client that is logged in (Universal Auth: one login request) or holds the
 * given access token (no request), under one overall deadline. Every failure becomes an InfisicalError.
 */
async function session<T>(
  ctx: Context,
  credentials: { clientId?: string; clientSecret?: string; accessToken?: string },
  timeoutMs: number,
  steps: (sdk: InfisicalSDK) => Promise<T>,
): Promise<SessionResult<T>> {
  const scope: FetchScope = { requests: 0, controller: new AbortController(), timers: new Set() };
  let stage: Stage = credentials.accessToken !== undefined ? "list" : "login";
  let accessToken: string | undefined;

  const work = runInScope(scope, async () => {
    const sdk = new InfisicalSDK({ siteUrl: ctx.siteUrl });
    if (credentials.accessToken !== undefined) {
      // No request: the SDK only sets the bearer (an empty one is refused by credentialsFromEnv).
      sdk.auth().accessToken(credentials.accessToken);
    } else {
      await sdk.auth().universalAuth.login({
        clientId: credentials.clientId ?? "",
        clientSecret: credentials.clientSecret ?? "",
      });
    }
    const token = sdk.auth().getAccessToken();
    if (typeof token !== "string" || token === "" || token === "undefined") {
      throw failure(
        ctx,
        "bad-reply",
        "the login reply carried no access token",
        "check the site URL: it must be the root of an Infisical instance (without /api)",
      );
    }
    accessToken = token;
    stage = "list";
    return steps(sdk);
  });

  let deadline: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    deadline = startTimer(() => {
      scope.controller.abort();
      for (const timer of scope.timers) timer.unref();
      reject(deadlineFailure(ctx, scope, stage, timeoutMs));
    }, timeoutMs);
  });
  try {
    const value = await Promise.race([work, expired]);
    return { value, httpRequests: scope.requests, accessToken };
  } catch (error) {
    const infisicalError = error instanceof InfisicalError ? error : classify(error, stage, ctx);
    return { error: infisicalError, httpRequests: scope.requests, accessToken };
  } finally {
    cancelTimer(deadline);
  }
}

async function fetchAndCheck(
  settings: InfisicalSettings,
  credentials: InfisicalCredentials,
  options: FetchOptions,
): Promise<Outcome> {
  const ctx: Context = {
    settings,
    siteUrl: credentials.siteUrl ?? settings.siteUrl,
    ...credentialContext(credentials, `${INFISICAL_ENV.clientId} and ${INFISICAL_ENV.clientSecret}`),
    roles: options.roles,
  };
  const timeoutMs = options.timeoutMs ?? settings.timeoutSeconds * 1000;
  const result = await session(ctx, credentials, timeoutMs, (sdk) =>
    sdk.secrets().listSecrets({
      projectId: settings.projectId,
      environment: settings.environment,
      secretPath: settings.secretPath,
      expandSecretReferences: true,
      viewSecretValue: true,
    }),
  );
  const identityId = result.accessToken === undefined ? undefined : tokenIdentityId(result.accessToken);
  if (result.error) {
    return { values: {}, problems: [], error: result.error, httpRequests: result.httpRequests, identityId };
  }
  const reply: unknown = result.value;
  const scope = { requests: result.httpRequests };

  let listed: ListedSecret[];
  try {
    listed = listedSecrets(reply, ctx);
  } catch (error) {
    return { values: {}, problems: [], error: error as InfisicalError, httpRequests: scope.requests };
  }
  const byKey = new Map<string, ListedSecret>();
  for (const secret of listed) {
    // A shared secret wins over a personal override (machine identities have none, users might).
    if (!byKey.has(secret.secretKey) || secret.type === "shared") byKey.set(secret.secretKey, secret);
  }
  const values: Partial<CastleSecretValues> = {};
  const problems: SecretProblem[] = [];
  for (const role of options.roles ?? SECRET_ROLES) {
    const name = settings.secretNames[role];
    const secret = byKey.get(name);
    let problem: string | undefined;
    if (secret === undefined) problem = "missing: no secret with this name in that folder (imports are not searched)";
    else if (secret.secretValueHidden === true) {
      problem = "value hidden: the identity may see the secret but not read its value (grant Read Value)";
    } else problem = secretValueProblem(role, secret.secretValue);
    if (problem === undefined && secret !== undefined) values[role] = secret.secretValue;
    else if (problem !== undefined) problems.push({ name, role, problem });
  }
  return { values, problems, httpRequests: scope.requests, identityId, names: listed.map((s) => s.secretKey) };
}

function secretsFailure(settings: InfisicalSettings, siteUrl: string, problems: SecretProblem[]): InfisicalError {
  const count = problems.length === 1 ? "1 secret is" : `${problems.length} secrets are`;
  const lines = problems.map((p) => `  - ${p.name} (castle:infisical.secretNames.${p.role}): ${p.problem}`);
  return new InfisicalError(
    `Infisical: ${count} missing or invalid in project ${settings.projectId}, environment "${settings.environment}", path "${settings.secretPath}" at ${siteUrl}:\n${lines.join("\n")}\n` +
      `  next: create or fix ${problems.length === 1 ? "it" : "them"} in that folder, or set castle:infisical.secretNames to the names you use`,
    "secrets",
    problems,
  );
}

/**
 * Logs in with the machine identity and fetches the castle's five secrets with one list request.
 * Throws an InfisicalError naming every missing or invalid secret (never a value).
 */
export async function fetchCastleSecrets(
  settings: InfisicalSettings,
  credentials: InfisicalCredentials,
  options: FetchOptions = {},
): Promise<CastleSecretValues> {
  const outcome = await fetchAndCheck(settings, credentials, options);
  if (outcome.error) throw outcome.error;
  if (outcome.problems.length > 0) {
    throw secretsFailure(settings, credentials.siteUrl ?? settings.siteUrl, outcome.problems);
  }
  return outcome.values as CastleSecretValues;
}

/**
 * The same fetch as `fetchCastleSecrets`, reported per secret instead of thrown: for `castle doctor`.
 * Values are dropped; only "ok" or the problem is kept.
 */
export async function diagnoseCastleSecrets(
  settings: InfisicalSettings,
  credentials: InfisicalCredentials,
  options: FetchOptions = {},
): Promise<CastleSecretsDiagnosis> {
  const outcome = await fetchAndCheck(settings, credentials, options);
  const problemOf = new Map(outcome.problems.map((p) => [p.role, p.problem]));
  const secrets = (options.roles ?? SECRET_ROLES).map((role) => ({
    name: settings.secretNames[role],
    role,
    status: outcome.error ? "not checked" : (problemOf.get(role) ?? "ok"),
  }));
  const { esoClientId, esoClientSecret, gitopsClientId, gitopsClientSecret } = outcome.values;
  return {
    secrets,
    error: outcome.error,
    httpRequests: outcome.httpRequests,
    programIdentityId: outcome.identityId,
    castleKeyNames: outcome.names,
    ...(esoClientId !== undefined && esoClientSecret !== undefined
      ? { esoCredentials: { clientId: esoClientId, clientSecret: esoClientSecret } }
      : {}),
    ...(gitopsClientId !== undefined && gitopsClientSecret !== undefined
      ? { gitopsCredentials: { clientId: gitopsClientId, clientSecret: gitopsClientSecret } }
      : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// The cluster's identity: can it read its own folder, and only that?

/** What an identity met when listing one folder. */
export interface FolderAccess {
  path: string;
  /** `listed`: 200; `denied`: 403 (a permission); `missing`: 404; `failed`: anything else. */
  outcome: "listed" | "denied" | "missing" | "failed";
  status?: number;
  /** For `listed`: how many secrets, and whether any value came back hidden. */
  count?: number;
  hiddenValues?: boolean;
  /** For `listed`: the secrets' names (never their values). */
  names?: string[];
  /** For `failed`: what went wrong (never a value). */
  error?: InfisicalError;
}

// ---------------------------------------------------------------------------------------------
// Any identity's wall: the folder it must read, the folders it must not

export interface IdentityWallProbe {
  /** The identity id its access token carries. */
  identityId?: string;
  /** Its own folder, read with values (what ESO does); absent when none was given. */
  own?: FolderAccess;
  /** The folders it must not read, listed without values, in the order given. */
  forbidden: FolderAccess[];
  /** The login failed (then no folder was tried), or the deadline passed. */
  error?: InfisicalError;
  httpRequests: number;
}

/**
 * Logs in as an identity (Universal Auth, with credentials fetched from the castle's folder) and lists
 * its own folder (values included, as ESO reads it), then each folder it must not read (names only).
 * One login and one request per folder. No value leaves this function; `who` names the identity in
 * messages (e.g. "the Git credential's identity (GITOPS_CLIENT_ID/GITOPS_CLIENT_SECRET)").
 */
export async function probeIdentityWall(
  settings: InfisicalSettings,
  identity: { who: string; credentialNames: string; clientId: string; clientSecret: string },
  folders: { own?: string; forbidden: readonly string[] },
  options: FetchOptions & { siteUrl?: string } = {},
): Promise<IdentityWallProbe> {
  const siteUrl = options.siteUrl ?? settings.siteUrl;
  const ctx: Context = {
    settings,
    siteUrl,
    hidden: [identity.clientSecret, identity.clientId],
    credentialNames: identity.credentialNames,
    task: `logging in as ${identity.who} at ${siteUrl}, project ${settings.projectId}, environment "${settings.environment}"`,
  };
  const timeoutMs = options.timeoutMs ?? settings.timeoutSeconds * 1000;
  const list = async (sdk: InfisicalSDK, path: string, withValues: boolean): Promise<FolderAccess> => {
    try {
      const reply = await sdk.secrets().listSecrets({
        projectId: settings.projectId,
        environment: settings.environment,
        secretPath: path,
        expandSecretReferences: false,
        viewSecretValue: withValues,
      });
      const listed = listedSecrets(reply, ctx);
      return {
        path,
        outcome: "listed",
        status: 200,
        count: listed.length,
        hiddenValues: listed.some((secret) => secret.secretValueHidden === true),
        names: listed.map((secret) => secret.secretKey),
      };
    } catch (error) {
      const infisicalError = error instanceof InfisicalError ? error : classify(error, "list", ctx);
      const status = infisicalError.status;
      if (status === 403 && infisicalError.failure === "access") return { path, outcome: "denied", status };
      if (status === 404) return { path, outcome: "missing", status };
      return { path, outcome: "failed", status, error: infisicalError };
    }
  };
  const result = await session(ctx, identity, timeoutMs, async (sdk) => {
    const own = folders.own === undefined ? undefined : await list(sdk, folders.own, true);
    const forbidden: FolderAccess[] = [];
    for (const path of folders.forbidden) forbidden.push(await list(sdk, path, false));
    return { own, forbidden };
  });
  return {
    identityId: result.accessToken === undefined ? undefined : tokenIdentityId(result.accessToken),
    own: result.value?.own,
    forbidden: result.value?.forbidden ?? [],
    error: result.error,
    httpRequests: result.httpRequests,
  };
}
