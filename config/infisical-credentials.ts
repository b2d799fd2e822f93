/**
 * How the program and `castle doctor` reach Infisical, read from the environment only: a machine
 * identity's Universal Auth client id and secret, or a short-lived access token (`INFISICAL_TOKEN`),
 * and an optional site override. Nothing here is ever printed.
 */
import { InfisicalError } from "./infisical-errors";
import { siteUrl as siteUrlSchema } from "./schema";

/**
 * How the program reaches Infisical, from the environment: a machine identity's Universal Auth
 * client id and secret (one login request, then the list), or an access token (the list only).
 */
export type InfisicalCredentials =
  | {
      /** Universal Auth client id (`INFISICAL_CLIENT_ID`). */
      clientId: string;
      /** Universal Auth client secret (`INFISICAL_CLIENT_SECRET`). Never printed. */
      clientSecret: string;
      accessToken?: undefined;
      /** `INFISICAL_SITE_URL` when set: overrides `castle:infisical.siteUrl`. */
      siteUrl?: string;
    }
  | {
      /** An Infisical access token (`INFISICAL_TOKEN`): sent as the bearer, no login. Never printed. */
      accessToken: string;
      clientId?: undefined;
      clientSecret?: undefined;
      /** `INFISICAL_SITE_URL` when set: overrides `castle:infisical.siteUrl`. */
      siteUrl?: string;
    };

/** Environment variables read by `credentialsFromEnv`. */
export const INFISICAL_ENV = {
  clientId: "INFISICAL_CLIENT_ID",
  clientSecret: "INFISICAL_CLIENT_SECRET",
  accessToken: "INFISICAL_TOKEN",
  siteUrl: "INFISICAL_SITE_URL",
} as const;

/**
 * Reads how to reach Infisical from the environment: `INFISICAL_TOKEN` (an access token), or
 * `INFISICAL_CLIENT_ID` and `INFISICAL_CLIENT_SECRET` (Universal Auth), not both; and
 * `INFISICAL_SITE_URL` (optional; https, or http on a loopback address only).
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): InfisicalCredentials {
  const clientId = env[INFISICAL_ENV.clientId]?.trim() ?? "";
  const clientSecret = env[INFISICAL_ENV.clientSecret]?.trim() ?? "";
  const accessToken = env[INFISICAL_ENV.accessToken]?.trim() ?? "";
  const siteUrl = siteUrlFromEnv(env);
  const site = siteUrl === undefined ? {} : { siteUrl };

  if (accessToken !== "") {
    if (clientId !== "" || clientSecret !== "") {
      const both = [
        clientId !== "" ? INFISICAL_ENV.clientId : "",
        clientSecret !== "" ? INFISICAL_ENV.clientSecret : "",
      ]
        .filter(Boolean)
        .join(" and ");
      throw new InfisicalError(
        `Infisical credentials ambiguous: ${INFISICAL_ENV.accessToken} and ${both} are all set. ` +
          `Give either an access token (${INFISICAL_ENV.accessToken}) or a machine identity's Universal Auth credentials, and unset the other.`,
        "credentials",
      );
    }
    if (/\s/.test(accessToken)) {
      throw new InfisicalError(
        `${INFISICAL_ENV.accessToken} contains whitespace or a line break inside it: it must be the access token alone, as \`infisical login ... --plain\` prints it.`,
        "credentials",
      );
    }
    return { accessToken, ...site };
  }

  const missing = [
    ...(clientId === "" ? [INFISICAL_ENV.clientId] : []),
    ...(clientSecret === "" ? [INFISICAL_ENV.clientSecret] : []),
  ];
  if (missing.length > 0) {
    throw new InfisicalError(
      `Infisical credentials missing: ${missing.join(" and ")} ${missing.length === 1 ? "is" : "are"} not set (or empty). ` +
        `Export the Universal Auth client id and client secret of the castle's machine identity as ` +
        `${INFISICAL_ENV.clientId} and ${INFISICAL_ENV.clientSecret} (Infisical: Organization > Access Control > Identities), ` +
        `or a short-lived access token of that identity as ${INFISICAL_ENV.accessToken}.`,
      "credentials",
    );
  }
  return { clientId, clientSecret, ...site };
}

/** `INFISICAL_SITE_URL`, validated like `castle:infisical.siteUrl`; undefined when unset. */
function siteUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const override = env[INFISICAL_ENV.siteUrl]?.trim();
  if (override === undefined || override === "") return undefined;
  const parsed = siteUrlSchema.safeParse(override);
  if (!parsed.success) {
    throw new InfisicalError(
      // Never quoted: a pasted token or password would be printed with it.
      `${INFISICAL_ENV.siteUrl}: ${parsed.error.issues.map((i) => i.message).join("; ")}. ` +
        "Give the instance root, e.g. https://eu.infisical.com, or unset it to use castle:infisical.siteUrl.",
      "config",
    );
  }
  return override;
}

/**
 * The Infisical identity id inside an identity access token (a JWT whose payload carries `identityId`),
 * or undefined when the token is not one. Not verified: only used to tell two identities apart.
 */
export function tokenIdentityId(token: string): string | undefined {
  const payload = token.split(".")[1];
  if (token.split(".").length !== 3 || payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { identityId?: unknown };
    return typeof claims.identityId === "string" && claims.identityId !== "" ? claims.identityId : undefined;
  } catch {
    return undefined;
  }
}
