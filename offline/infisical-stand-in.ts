/**
 * A local stand-in for the Infisical API on 127.0.0.1, speaking the wire format that
 * `@infisical/sdk` 5.0.2 uses for Universal Auth and listing secrets:
 *
 * - `POST /api/v1/auth/universal-auth/login`, body `{clientId, clientSecret}` ->
 *   200 `{accessToken, expiresIn, accessTokenMaxTTL, tokenType: "Bearer"}`, or 401 "Invalid credentials".
 * - `GET /api/v3/secrets/raw?workspaceId=&environment=&secretPath=&expandSecretReferences=&include_imports=&recursive=&viewSecretValue=`
 *   with `Authorization: Bearer <token>` -> 200 `{secrets: [secretRaw...], imports: []}`.
 * - errors as Infisical's error handler writes them: `{reqId, statusCode, message, error}`.
 * - `POST /api/v1/auth/oidc-auth/login`, body `{identityId, jwt}` -> the same reply as the Universal Auth
 *   login; 404 when the identity has no OIDC auth, 403 "Access denied: OIDC subject not allowed." on
 *   another `sub`, 401 "Access denied: OIDC audience not allowed." on another `aud` (the JWT's signature is
 *   not checked: tests sign nothing).
 * - access tokens shaped like Infisical's identity access tokens (a JWT whose payload carries
 *   `identityId`); `issueToken` hands one out without a request, as `infisical login --plain` or an
 *   OIDC exchange elsewhere would.
 *
 * Sources: Infisical backend routes v1/identity-universal-auth-router.ts, v3/deprecated-secret-router.ts,
 * sanitizedSchemas.ts (secretRawSchema), plugins/error-handler.ts; SDK Infisical/node-sdk-v2 5.0.2.
 * Faults can be injected per route (status + body, HTML, hangs, non-JSON 200, 429), and every request
 * is recorded so tests can count them.
 *
 * Where each answer comes from. The only Infisical source on hand is Infisical/infisical@593bda8bc
 * (2024-10-24, "@593bda8bc" below; the stand-in's answers were also put to a real backend of that commit).
 * Infisical Cloud runs newer code (v4 routes, `readValue`/`describeSecret` actions, `reqId` in errors),
 * which could not be read: answers marked "assumed" follow it and were not verified.
 * - login 200 `{accessToken, expiresIn, accessTokenMaxTTL, tokenType: "Bearer"}`:
 *   @593bda8bc backend/src/server/routes/v1/identity-universal-auth-router.ts.
 * - login 401 "Invalid credentials": @593bda8bc backend/src/services/identity-ua/identity-ua-service.ts
 *   (a wrong secret; an unknown client id gets 404 "No identity with specified client ID was found" there).
 * - list 401 "Token missing": @593bda8bc backend/src/server/plugins/auth/verify-auth.ts.
 * - 403 PermissionDenied "You are not allowed to read on secrets", no reqId, no details, before any folder
 *   lookup: observed on a real backend of @593bda8bc (see `list`), message from error-handler.ts.
 * - 500 "Something went wrong", the `{statusCode, message, error}` body: @593bda8bc error-handler.ts.
 * - 422 ValidationFailure: assumed (@593bda8bc answers 401 with the same body).
 * - 400 for a body that is not JSON: assumed (@593bda8bc answers 500 "Something went wrong").
 * - 400 "You must provide projectSlug or workspaceId", "Missing project id or environment", 404
 *   "Project with ID ... not found", 404 "Folder with path ..." (a missing folder the identity may read): assumed
 *   (@593bda8bc: 400 "Missing workspace id or environment", 404 "Project with ID '<id>' not found during
 *   bot lookup. ...").
 * - 401 "Failed to authenticate identity access token" (revoked token), 403 TokenError "Invalid token":
 *   assumed (@593bda8bc answers a malformed token 403 TokenError "The provided access token is malformed. ...").
 * - OIDC 403 "Access denied: OIDC subject not allowed.", 401 "Access denied: OIDC audience not allowed.",
 *   401 "Invalid JWT": @593bda8bc backend/src/services/identity-oidc-auth/identity-oidc-auth-service.ts;
 *   the 404 without OIDC auth: assumed.
 * - 429 RateLimitExceeded "Rate limit exceeded. Please try again in 60 seconds": @593bda8bc
 *   backend/src/server/config/rateLimiter.ts and lib/errors/index.ts.
 * - unknown route 404 `{message: "Route GET:<path> not found", error: "Not Found", statusCode: 404}`:
 *   Fastify's default, as the real backend of @593bda8bc answers.
 * - secret fields (`secretKey`, `secretValue`, ...): @593bda8bc backend/src/server/routes/sanitizedSchemas.ts
 *   `secretRawSchema`; `secretValueHidden` and the `<hidden-by-infisical>` mask: assumed.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** Route paths, as the SDK calls them. */
export const STAND_IN_ROUTES = {
  login: "/api/v1/auth/universal-auth/login",
  oidcLogin: "/api/v1/auth/oidc-auth/login",
  list: "/api/v3/secrets/raw",
} as const;
export type StandInRoute = keyof typeof STAND_IN_ROUTES;

/** What a machine identity may read: one environment of one project, some folders. */
export interface StandInGrant {
  projectId: string;
  environment: string;
  /** Folder paths, exact (`/castle/blue`) or a subtree (`/castle/**`). */
  paths: string[];
}

/**
 * A machine identity with its own permissions: it may list exactly the folders its grants name, and
 * gets 403 PermissionDenied anywhere else (Infisical's answer when a role's secret-path condition fails).
 */
export interface StandInIdentity {
  clientId: string;
  clientSecret: string;
  grants: StandInGrant[];
  /** The identity's id, carried in its access tokens. Default: derived from the client id. */
  identityId?: string;
  /** OIDC Auth: the subject and audience a JWT must carry (the stand-in does not check signatures). */
  oidc?: { subject: string; audience: string };
}

export interface StandInSecret {
  key: string;
  value: string;
  /** Default `shared`. */
  type?: "shared" | "personal";
  comment?: string;
  /** Answer with Infisical's hidden-value mask (identity may describe but not read the value). */
  valueHidden?: boolean;
}

/** projectId -> environment slug -> folder path -> secrets. A folder exists when it has an entry. */
export type StandInProjects = Record<string, Record<string, Record<string, StandInSecret[]>>>;

/** An injected fault for one route. `times` limits it to the first N requests (default: every request). */
export type StandInFault = { times?: number } & (
  | { kind: "status"; status: number; body: unknown } // JSON body (a string body is sent as-is)
  | { kind: "html"; status: number } // an HTML error page, like a proxy's
  | { kind: "hang" } // accept the request, never send headers
  | { kind: "hang-after-headers" } // 200 headers and the start of a body, never the end
  | { kind: "non-json" } // 200 with an HTML body
  | { kind: "rate-limit" } // Infisical's 429
);

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Whether an Authorization header came with it (the token itself is not kept). */
  authorized: boolean;
}

export interface StandInOptions {
  identities?: StandInIdentity[];
  projects?: StandInProjects;
  faults?: Partial<Record<StandInRoute, StandInFault>>;
}

/** Infisical's mask for a value the caller may not read. */
const HIDDEN_VALUE = "<hidden-by-infisical>";
/** Default identity token TTL of Universal Auth (30 days). */
const TOKEN_TTL = 2_592_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    /** The body carries no `reqId` (as the permission-denied answer observed at 593bda8b). */
    readonly withoutReqId = false,
  ) {
    super(message);
  }
}

function reqId(): string {
  return `req-${randomBytes(10).toString("base64url").replace(/[-_]/g, "x").slice(0, 14)}`;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function errorBody(
  status: number,
  error: string,
  message: unknown,
  extra: Record<string, unknown> = {},
  withoutReqId = false,
) {
  return { ...(withoutReqId ? {} : { reqId: reqId() }), statusCode: status, message, error, ...extra };
}

/** `secretPath` as the server normalizes it: default `/`, trailing slash removed. */
function normalizePath(path: string | undefined): string {
  if (path === undefined || path === "") return "/";
  const trimmed = path.replace(/\/+$/, "");
  return trimmed === "" ? "/" : trimmed;
}

function pathAllowed(patterns: string[], path: string): boolean {
  return patterns.some((pattern) => {
    if (pattern.endsWith("/**")) {
      const base = pattern.slice(0, -3);
      return path === (base === "" ? "/" : base) || path.startsWith(`${base}/`);
    }
    return normalizePath(pattern) === path;
  });
}

export class InfisicalStandIn {
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  /** `GET /api/status` requests (castle doctor's reachability probe), kept apart from the API requests. */
  readonly statusProbes: RecordedRequest[] = [];
  identities: StandInIdentity[];
  projects: StandInProjects;
  faults: Partial<Record<StandInRoute, StandInFault>>;
  private readonly tokens = new Map<string, StandInIdentity>();
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private url = "";

  constructor(options: StandInOptions = {}) {
    this.identities = options.identities ?? [];
    this.projects = options.projects ?? {};
    this.faults = options.faults ?? {};
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  /** A stand-in with one identity that may read one folder, which holds `secrets` (name -> value, in order). */
  static forFolder(folder: {
    clientId: string;
    clientSecret: string;
    projectId: string;
    environment: string;
    secretPath: string;
    secrets: Record<string, string>;
  }): InfisicalStandIn {
    const { clientId, clientSecret, projectId, environment, secretPath } = folder;
    return new InfisicalStandIn({
      identities: [{ clientId, clientSecret, grants: [{ projectId, environment, paths: [secretPath] }] }],
      projects: {
        [projectId]: {
          [environment]: {
            [secretPath]: Object.entries(folder.secrets).map(([key, value]) => ({ key, value })),
          },
        },
      },
    });
  }

  /** The identity id of a client id, as its tokens carry it. */
  identityIdOf(clientId: string): string {
    const identity = this.identities.find((i) => i.clientId === clientId);
    if (identity === undefined) throw new Error(`no identity with client id ${clientId}`);
    // A digest, not a prefix: two client ids that share their first characters are two identities.
    return identity.identityId ?? `identity-${createHash("sha256").update(clientId).digest("hex").slice(0, 24)}`;
  }

  /** An access token of the identity, issued without a request (as if obtained elsewhere). */
  issueToken(clientId: string): string {
    const identity = this.identities.find((i) => i.clientId === clientId);
    if (identity === undefined) throw new Error(`no identity with client id ${clientId}`);
    return this.newToken(identity);
  }

  /** Revokes every token issued so far (they then get 401, as an expired or revoked token does). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  private newToken(identity: StandInIdentity): string {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const payload = {
      identityId: this.identityIdOf(identity.clientId),
      identityAccessTokenId: randomUUID(),
      authTokenType: "identityAccessToken",
    };
    const token = `${part({ alg: "HS256", typ: "JWT" })}.${part(payload)}.${randomBytes(32).toString("base64url")}`;
    this.tokens.set(token, identity);
    return token;
  }

  /** Listens on 127.0.0.1, a random port; resolves to the site URL to give the SDK. */
  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  /** The site URL (instance root, without /api). */
  get siteUrl(): string {
    return this.url;
  }

  /** Requests to one route. */
  requestsTo(route: StandInRoute): RecordedRequest[] {
    return this.requests.filter((r) => r.path === STAND_IN_ROUTES[route]);
  }

  /** Stops listening and destroys every connection, hanging ones included. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://stand-in");
    // Fastify's ignoreTrailingSlash.
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
    if (path === "/api/status" && req.method === "GET") {
      // Way2nnadi/infisical backend/src/server/routes/index.ts: GET /api/status answers 200 with the date,
      // "Ok" and some server settings, outside the auth and the versioned API (the real backend at that
      // commit answered {"date":...,"message":"Ok","emailConfigured":false,"inviteOnlySignup":true,
      // "redisConfigured":true,"secretScanningConfigured":false}).
      this.statusProbes.push({ method: "GET", path, query: {}, authorized: req.headers.authorization !== undefined });
      req.resume();
      sendJson(res, 200, {
        date: new Date().toISOString(),
        message: "Ok",
        emailConfigured: false,
        inviteOnlySignup: true,
        redisConfigured: true,
        secretScanningConfigured: false,
      });
      return;
    }
    this.requests.push({
      method: req.method ?? "",
      path,
      query: Object.fromEntries(url.searchParams),
      authorized: req.headers.authorization !== undefined,
    });
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const route = (Object.keys(STAND_IN_ROUTES) as StandInRoute[]).find((r) => STAND_IN_ROUTES[r] === path);
      if (route !== undefined && this.injectFault(route, res)) return;
      try {
        if (route === "login" && req.method === "POST") {
          sendJson(res, 200, this.login(Buffer.concat(chunks).toString("utf8")));
        } else if (route === "oidcLogin" && req.method === "POST") {
          sendJson(res, 200, this.oidcLogin(Buffer.concat(chunks).toString("utf8")));
        } else if (route === "list" && req.method === "GET") {
          sendJson(res, 200, this.list(req.headers.authorization, url.searchParams));
        } else {
          sendJson(res, 404, {
            message: `Route ${req.method}:${url.pathname} not found`,
            error: "Not Found",
            statusCode: 404,
          });
        }
      } catch (error) {
        if (!(error instanceof HttpError)) {
          sendJson(res, 500, errorBody(500, "InternalServerError", "Something went wrong"));
          return;
        }
        sendJson(
          res,
          error.status,
          errorBody(error.status, error.error, error.message, error.extra, error.withoutReqId),
        );
      }
    });
  }

  /** Applies the route's fault, if any is left; true when the request was answered (or swallowed). */
  private injectFault(route: StandInRoute, res: ServerResponse): boolean {
    const fault = this.faults[route];
    if (fault === undefined) return false;
    if (fault.times !== undefined) {
      if (fault.times <= 0) return false;
      fault.times--;
    }
    switch (fault.kind) {
      case "status":
        sendJson(res, fault.status, fault.body);
        return true;
      case "html": {
        const html = `<html><head><title>${fault.status}</title></head><body><center><h1>${fault.status}</h1></center><hr><center>nginx</center></body></html>`;
        res.writeHead(fault.status, { "content-type": "text/html" });
        res.end(html);
        return true;
      }
      case "hang":
        return true;
      case "hang-after-headers":
        res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
        res.write('{"secrets":[');
        return true;
      case "non-json":
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<!doctype html><html><body>Sign in to continue</body></html>");
        return true;
      case "rate-limit":
        sendJson(res, 429, errorBody(429, "RateLimitExceeded", "Rate limit exceeded. Please try again in 60 seconds"));
        return true;
    }
  }

  private login(bodyText: string) {
    let body: unknown;
    try {
      body = JSON.parse(bodyText);
    } catch {
      throw new HttpError(400, "BadRequest", "Body is not valid JSON");
    }
    const { clientId, clientSecret } = (body ?? {}) as { clientId?: unknown; clientSecret?: unknown };
    if (typeof clientId !== "string" || typeof clientSecret !== "string") {
      throw new HttpError(422, "ValidationFailure", "validation failed", {
        message: [{ code: "invalid_type", expected: "string", path: ["clientId"], message: "Required" }],
      });
    }
    const identity = this.identities.find(
      (i) => i.clientId === clientId.trim() && i.clientSecret === clientSecret.trim(),
    );
    if (identity === undefined) throw new HttpError(401, "UnauthorizedError", "Invalid credentials");
    const accessToken = this.newToken(identity);
    return { accessToken, expiresIn: TOKEN_TTL, accessTokenMaxTTL: TOKEN_TTL, tokenType: "Bearer" };
  }

  private oidcLogin(bodyText: string) {
    let body: { identityId?: unknown; jwt?: unknown };
    try {
      body = (JSON.parse(bodyText) ?? {}) as typeof body;
    } catch {
      throw new HttpError(400, "BadRequest", "Body is not valid JSON");
    }
    if (typeof body.identityId !== "string" || typeof body.jwt !== "string") {
      throw new HttpError(422, "ValidationFailure", "validation failed", {
        message: [{ code: "invalid_type", expected: "string", path: ["identityId"], message: "Required" }],
      });
    }
    const identity = this.identities.find((i) => this.identityIdOf(i.clientId) === body.identityId);
    if (identity?.oidc === undefined) {
      throw new HttpError(404, "NotFound", "OIDC auth method not found for identity, did you configure OIDC auth?");
    }
    let claims: { sub?: unknown; aud?: unknown };
    try {
      claims = JSON.parse(Buffer.from(body.jwt.split(".")[1] ?? "", "base64url").toString("utf8"));
    } catch {
      throw new HttpError(401, "UnauthorizedError", "Invalid JWT");
    }
    if (claims.sub !== identity.oidc.subject) {
      throw new HttpError(403, "ForbiddenError", "Access denied: OIDC subject not allowed.");
    }
    if (claims.aud !== identity.oidc.audience) {
      throw new HttpError(401, "UnauthorizedError", "Access denied: OIDC audience not allowed.");
    }
    const accessToken = this.newToken(identity);
    return { accessToken, expiresIn: 900, accessTokenMaxTTL: 900, tokenType: "Bearer" };
  }

  private list(authorization: string | undefined, query: URLSearchParams) {
    if (authorization === undefined) throw new HttpError(401, "UnauthorizedError", "Token missing");
    const token = authorization.replace(/^Bearer /, "");
    const identity = this.tokens.get(token);
    if (identity === undefined) {
      // A well-formed token Infisical no longer knows (revoked, expired by TTL): 401; garbage: a JWT error, 403.
      if (token.split(".").length === 3) {
        throw new HttpError(401, "UnauthorizedError", "Failed to authenticate identity access token");
      }
      throw new HttpError(403, "TokenError", "Invalid token");
    }
    for (const key of ["viewSecretValue", "expandSecretReferences", "recursive", "include_imports"]) {
      const value = query.get(key);
      if (value !== null && value !== "true" && value !== "false") {
        throw new HttpError(422, "ValidationFailure", "validation failed", {
          message: [
            { code: "invalid_enum_value", options: ["true", "false"], path: [key], message: "Invalid enum value" },
          ],
        });
      }
    }
    const projectId = query.get("workspaceId");
    const environment = query.get("environment");
    if (!projectId) throw new HttpError(400, "BadRequest", "You must provide projectSlug or workspaceId");
    if (!environment) throw new HttpError(400, "BadRequest", "Missing project id or environment");
    const project = this.projects[projectId];
    if (project === undefined) throw new HttpError(404, "NotFound", `Project with ID '${projectId}' not found`);
    const path = normalizePath(query.get("secretPath") ?? undefined);
    const allowed = identity.grants.some(
      (g) => g.projectId === projectId && g.environment === environment && pathAllowed(g.paths, path),
    );
    // The identity wall. Observed on the real Infisical backend at commit 593bda8b (Infisical/infisical
    // main, 2024-10-24), GET /api/v3/secrets/raw as a cluster identity whose only permission is
    // {subject: secrets, action: read, conditions: {secretPath: {$eq: "/apps/blue"}}}: on /castle/green,
    // /castle/blue, /apps/green, and on folders that do not exist (/castle/nosuch), the answer is
    // HTTP 403 with exactly {"statusCode":403,"message":"You are not allowed to read on secrets",
    // "error":"PermissionDenied"}: no reqId, no details, and the permission is checked before the folder
    // exists (so a refused identity never learns which folders exist). Source of the message:
    // Way2nnadi/infisical@593bda8b backend/src/server/plugins/error-handler.ts (ForbiddenError ->
    // `You are not allowed to ${error.action} on ${error.subjectType}`).
    // The Git credential's wall, observed there too: an identity whose only permission is read on
    // secretPath `$eq /gitops/blue` gets 200 on /gitops/blue and this 403 on /castle/blue, /apps/blue and an
    // absent /gitops/missing; the cluster's identity gets it on /gitops/blue, /gitops and the single-secret
    // route. Not modelled: `recursive=true`, answered with 200 and only the permitted folders' secrets.
    if (!allowed) {
      throw new HttpError(403, "PermissionDenied", "You are not allowed to read on secrets", {}, true);
    }
    const folder = project[environment]?.[path];
    if (folder === undefined) {
      throw new HttpError(
        404,
        "NotFound",
        `Folder with path '${path}' in environment '${environment}' was not found. Please ensure the environment slug and secret path is correct.`,
      );
    }
    const viewSecretValue = query.get("viewSecretValue") !== "false";
    const now = new Date().toISOString();
    const secrets = folder.map((secret) => {
      const hidden = !viewSecretValue || secret.valueHidden === true;
      return {
        id: randomUUID(),
        _id: randomUUID(),
        workspace: projectId,
        environment,
        version: 1,
        type: secret.type ?? "shared",
        secretKey: secret.key,
        secretValue: hidden ? HIDDEN_VALUE : secret.value,
        secretComment: secret.comment ?? "",
        secretReminderNote: null,
        secretReminderRepeatDays: null,
        skipMultilineEncoding: false,
        createdAt: now,
        updatedAt: now,
        actor: null,
        isRotatedSecret: false,
        rotationId: null,
        secretPath: path,
        secretValueHidden: hidden,
        secretMetadata: [],
        tags: [],
      };
    });
    return { secrets, imports: [] };
  }
}
