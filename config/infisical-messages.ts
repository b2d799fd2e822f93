/**
 * The messages of a failed Infisical fetch: what happened, where (the secret names, folder, environment,
 * project and site) and what to do next. Whatever the SDK throws or answers is classified here: HTTP
 * errors by a table of rules, connection failures and the overall deadline by what they leave behind.
 * Nothing here quotes a secret value; what the server says is cut to one short line and scrubbed of the
 * credentials in use.
 */
import { INFISICAL_ENV } from "./infisical-credentials";
import { InfisicalError, type InfisicalFailure, type InfisicalSettings, SECRET_ROLES } from "./infisical-errors";
import type { FetchScope } from "./infisical-scope";
import type { CastleSecretValues } from "./secrets";

export interface Context {
  settings: InfisicalSettings;
  siteUrl: string;
  /** Credentials that must never show in a message (client secret, access token). */
  hidden: string[];
  /** Where the Universal Auth credentials come from, for the advice on a rejected login. */
  credentialNames: string;
  /** Set when an access token was given instead of a login: where it came from. */
  tokenSource?: string;
  /** What was being done, for the message; default: fetching the castle's secrets from its folder. */
  task?: string;
  /** The secrets being fetched, for the message; default the five every stack needs. */
  roles?: readonly (keyof CastleSecretValues)[];
}

function where(ctx: Context): string {
  const { projectId, environment, secretPath } = ctx.settings;
  return `project ${projectId}, environment "${environment}", path "${secretPath}" at ${ctx.siteUrl}`;
}

function names(ctx: Context): string {
  return (ctx.roles ?? SECRET_ROLES).map((role) => ctx.settings.secretNames[role]).join(", ");
}

export function failure(
  ctx: Context,
  kind: InfisicalFailure,
  what: string,
  next: string,
  status?: number,
): InfisicalError {
  return new InfisicalError(
    `${/^Infisical\b/.test(what) ? what : `Infisical: ${what}`}\n  while ${ctx.task ?? `fetching ${names(ctx)} from ${where(ctx)}`}\n  next: ${next}`,
    kind,
    [],
    status,
  );
}

/** A server-provided message, made safe to show: one line, short, without the client secret. */
function serverText(text: string, ctx: Context): string {
  let safe = text.replace(/\s+/g, " ").trim();
  for (const hidden of ctx.hidden) if (hidden.length > 0) safe = safe.split(hidden).join("[redacted]");
  return safe.length > 200 ? `${safe.slice(0, 197)}...` : safe;
}

export type Stage = "login" | "list";

/** An HTTP error answer, as the classifier's rules see it. */
interface HttpAnswer {
  status: number;
  stage: Stage;
  /** What the server said, made safe to show (`serverText`); empty when nothing usable. */
  said: string;
  /** What the castle was doing, e.g. "logging in (Universal Auth)". */
  doing: string;
  /** `HTTP <status>` with what the server said. */
  reply: string;
  ctx: Context;
}

interface HttpFailureRule {
  when(answer: HttpAnswer): boolean;
  failure: InfisicalFailure;
  what(answer: HttpAnswer): string;
  next(answer: HttpAnswer): string;
}

const tokenRefused = (a: HttpAnswer) => a.status === 401 || (a.status === 403 && /token/i.test(a.said));

/** How each HTTP error is reported: the first rule that matches wins (the last matches anything). */
const HTTP_FAILURES: readonly HttpFailureRule[] = [
  {
    when: (a) => a.status === 401 && a.stage === "login",
    failure: "credentials",
    what: (a) => `the machine identity was rejected while ${a.doing} (${a.reply})`,
    next: (a) =>
      `check ${a.ctx.credentialNames}: the client secret may be wrong, revoked, expired or used up, Universal Auth must be enabled for the identity, and the site URL must be the region where the identity lives (EU and US are separate)`,
  },
  {
    when: (a) => a.ctx.tokenSource !== undefined && tokenRefused(a),
    failure: "credentials",
    what: (a) => `Infisical did not accept the access token in ${a.ctx.tokenSource} while ${a.doing} (${a.reply})`,
    next: () =>
      `the token may have expired (its identity's access token TTL), been revoked, or come from another Infisical instance or region: get a fresh one (infisical login --method=universal-auth --plain, or the OIDC exchange in CI), or use ${INFISICAL_ENV.clientId} and ${INFISICAL_ENV.clientSecret} instead`,
  },
  {
    when: tokenRefused,
    failure: "credentials",
    what: (a) => `Infisical did not accept the access token from the login while ${a.doing} (${a.reply})`,
    next: () => "run again; if it persists, check the identity's access token TTL and trusted IPs in Infisical",
  },
  {
    when: (a) => a.status === 403,
    failure: "access",
    what: (a) => `the machine identity is not allowed to read these secrets (${a.reply})`,
    next: () => "add the identity to the project with a role that may read secret values in that environment and path",
  },
  {
    when: (a) => a.status === 404 && a.stage === "login",
    failure: "not-found",
    what: (a) => `Infisical has no login route at ${a.ctx.siteUrl} (${a.reply})`,
    next: () =>
      "the site URL (castle:infisical.siteUrl or INFISICAL_SITE_URL) must be the instance root, e.g. https://eu.infisical.com, without /api",
  },
  {
    when: (a) => a.status === 404,
    failure: "not-found",
    what: (a) => `Infisical found no such project, environment or folder while ${a.doing} (${a.reply})`,
    next: () =>
      "check castle:infisical.projectId (the project id, not its slug), environment (the slug) and secretPath; the site URL must be the region that hosts the project",
  },
  {
    when: (a) => a.status === 400 || a.status === 422,
    failure: "bad-request",
    what: (a) => `Infisical refused the request while ${a.doing} (${a.reply})`,
    next: () => "check castle:infisical.projectId, environment and secretPath",
  },
  {
    when: (a) => a.status === 429,
    failure: "rate-limited",
    what: (a) => `Infisical is rate limiting this client (${a.reply}), still after retries`,
    next: () =>
      "wait a minute and run again (Infisical Cloud allows about 120 secret reads per minute per IP on the free plan)",
  },
  {
    when: (a) => a.status >= 500,
    failure: "server",
    what: (a) =>
      `Infisical answered with a server error while ${a.doing} (${a.reply}${a.said ? "" : ", not an Infisical JSON reply"})`,
    next: () =>
      "run again later; check the Infisical status page, or the logs of a self-hosted instance or of a proxy in front of it",
  },
  {
    when: () => true,
    failure: "bad-reply",
    what: (a) => `unexpected answer while ${a.doing} (${a.reply})`,
    next: () => "check the site URL: it must be the root of an Infisical instance, without /api",
  },
];

/** Turns whatever the SDK threw into an InfisicalError (SDK errors carry only `name` and `message`). */
export function classify(error: unknown, stage: Stage, ctx: Context): InfisicalError {
  const name = (error as Error | undefined)?.name ?? "";
  const message = typeof (error as Error | undefined)?.message === "string" ? (error as Error).message : "";
  const doing = stage === "login" ? "logging in (Universal Auth)" : "listing the secrets";
  let status: number | undefined;
  let said = "";
  if (name === "InfisicalSDKRequestError") {
    const match = /\[StatusCode=(\d+)\] ?([\s\S]*)$/.exec(message);
    if (match) {
      status = Number(match[1]);
      // A 422 tail is the whole reply body serialized: not shown.
      said = status === 422 ? "" : serverText(match[2], ctx);
    }
  } else if (name === "InfisicalSDKError") {
    const match = /^Request failed with status (\d+)$/.exec(message);
    if (match) status = Number(match[1]);
  }
  if (status !== undefined) {
    const reply = `HTTP ${status}${said ? `: "${said}"` : ""}`;
    const answer: HttpAnswer = { status, stage, said, doing, reply, ctx };
    const rule = HTTP_FAILURES.find((r) => r.when(answer)) as HttpFailureRule;
    return failure(ctx, rule.failure, rule.what(answer), rule.next(answer), status);
  }
  if (message === "fetch failed") {
    return failure(
      ctx,
      "unreachable",
      `Infisical is unreachable: no connection while ${doing}, after retries`,
      "check the site URL, DNS, the network and any proxy or firewall between here and Infisical",
    );
  }
  if (message === "This operation was aborted") {
    return failure(
      ctx,
      "timeout",
      `Infisical did not answer while ${doing} (each attempt timed out after 10 s)`,
      "check that the site URL points at a live Infisical instance and that nothing in between drops the requests",
    );
  }
  if (message === "terminated") {
    return failure(
      ctx,
      "unreachable",
      `the connection to Infisical broke off while ${doing}`,
      "run again; check any proxy or load balancer in front of Infisical",
    );
  }
  if (/^Failed to parse URL|^Invalid URL/.test(message)) {
    return failure(
      ctx,
      "config",
      "the site URL is not a valid URL",
      "give the instance root with its scheme, e.g. https://eu.infisical.com",
    );
  }
  return failure(
    ctx,
    "bad-reply",
    `unexpected error while ${doing}: ${name || "error"}${message ? `: ${serverText(message, ctx)}` : ""}`,
    "run again; if it persists, check the site URL and the Infisical instance",
  );
}

export function deadlineFailure(ctx: Context, scope: FetchScope, stage: Stage, timeoutMs: number): InfisicalError {
  const doing = stage === "login" ? "logging in (Universal Auth)" : "listing the secrets";
  const seconds = Number((timeoutMs / 1000).toFixed(3));
  let lastSeen = "no answer yet";
  let kind: InfisicalFailure = "timeout";
  if (scope.lastStatus === 429) {
    lastSeen = "Infisical kept answering 429: rate limited";
    kind = "rate-limited";
  } else if (scope.lastNetworkError !== undefined) {
    lastSeen = `Infisical unreachable (${scope.lastNetworkError})`;
    kind = "unreachable";
  } else if (scope.lastStatus !== undefined) {
    lastSeen = `last answer HTTP ${scope.lastStatus}, then no complete reply`;
  }
  return failure(
    ctx,
    kind,
    `timeout: no complete answer within ${seconds} s while ${doing} (${lastSeen}; ${scope.requests} request(s) sent)`,
    kind === "rate-limited"
      ? "wait a minute and run again (Infisical Cloud limits secret reads per IP)"
      : "check the site URL and the network path to Infisical; raise castle:infisical.timeoutSeconds if the instance is slow",
  );
}
