import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import { diagnoseCastleSecrets, fetchCastleSecrets, secretValueProblem } from "../config/infisical";
import { credentialsFromEnv } from "../config/infisical-credentials";
import { InfisicalError, type InfisicalFailure, type InfisicalSettings } from "../config/infisical-errors";
import { InfisicalSchema } from "../config/schema";
import { secretboxKeyProblem, weakSecretboxKeyProblem } from "../lib/secret-formats";
import {
  InfisicalStandIn,
  type StandInFault,
  type StandInIdentity,
  type StandInSecret,
} from "../offline/infisical-stand-in";
import { testSecretboxKey } from "./support/keys";

const PROJECT = "0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d";
const ENV = "prod";
const PATH = "/castle/blue";

/** Distinctive values: none of them may ever appear in an error or report. */
const SENTINEL = {
  secretboxKey: testSecretboxKey("castle"),
  proxmoxTokenId: "sentinel-user@pve!sentineltoken",
  proxmoxTokenSecret: "SENTINEL-PVE-SECRET-2f9d4c1a",
  esoClientId: "SENTINEL-ESO-ID-7a3e51bb",
  esoClientSecret: "SENTINEL-ESO-SECRET-c08e92d4",
};
const CLIENT_ID = "castle-program-identity";
const CLIENT_SECRET = "SENTINEL-CLIENT-SECRET-91fe03aa";
/** Invalid values used below: also never to be echoed. */
const BAD_VALUES = [
  Buffer.from("SENTINEL-16-byte").toString("base64"),
  "SENTINEL*NOT*BASE64*KEY",
  "-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s",
  "SENTINELtokenidwithoutrealm",
];
const ALL_SENTINELS = [...Object.values(SENTINEL), CLIENT_SECRET, ...BAD_VALUES];

function assertNoSecretIn(text: string): void {
  for (const value of ALL_SENTINELS) {
    // Report which kind leaked, never the value itself.
    assert.ok(!text.includes(value), `a secret value (sentinel #${ALL_SENTINELS.indexOf(value)}) leaked into the text`);
  }
}

const IDENTITY: StandInIdentity = {
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  grants: [{ projectId: PROJECT, environment: ENV, paths: ["/castle/**"] }],
};

function folder(overrides: Partial<Record<string, string | null>> = {}): StandInSecret[] {
  const base: Record<string, string> = {
    TALOS_SECRETBOX_KEY: SENTINEL.secretboxKey,
    PROXMOX_TOKEN_ID: SENTINEL.proxmoxTokenId,
    PROXMOX_TOKEN_SECRET: SENTINEL.proxmoxTokenSecret,
    ESO_CLIENT_ID: SENTINEL.esoClientId,
    ESO_CLIENT_SECRET: SENTINEL.esoClientSecret,
    UNRELATED: "not used by the castle",
  };
  const secrets: StandInSecret[] = [];
  for (const [key, value] of Object.entries({ ...base, ...overrides })) {
    if (value !== null && value !== undefined) secrets.push({ key, value });
  }
  return secrets;
}

/**
 * Runs `work` with the SDK's retry sleeps cut to 1 ms. @infisical/sdk 5.0.2 sleeps 1, 2, 4 and 8 s
 * (each +-20 %) between retries and aborts each attempt after 10 s, both with the global `setTimeout`:
 * only timers in the sleeps' range are shortened, so the order of requests is the SDK's own.
 */
async function withRetrySleepsShortened<T>(work: () => Promise<T>): Promise<T> {
  const real = globalThis.setTimeout;
  const start = real as (handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => NodeJS.Timeout;
  const shortened = (handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
    start(handler, ms !== undefined && ms >= 800 && ms <= 9600 ? 1 : ms, ...args);
  globalThis.setTimeout = Object.assign(shortened, { __promisify__: real.__promisify__ }) as typeof setTimeout;
  try {
    return await work();
  } finally {
    globalThis.setTimeout = real;
  }
}

const standIns: InfisicalStandIn[] = [];
after(async () => {
  await Promise.all(standIns.map((s) => s.close()));
});

async function standIn(
  options: { secrets?: StandInSecret[]; faults?: Partial<Record<"login" | "list", StandInFault>> } = {},
) {
  const server = new InfisicalStandIn({
    identities: [IDENTITY],
    projects: { [PROJECT]: { [ENV]: { [PATH]: options.secrets ?? folder(), "/castle/green": [] } } },
    faults: options.faults,
  });
  standIns.push(server);
  await server.start();
  return server;
}

function settingsFor(siteUrl: string, overrides: Record<string, unknown> = {}): InfisicalSettings {
  return InfisicalSchema.parse({
    siteUrl,
    projectId: PROJECT,
    projectSlug: "castle-test",
    environment: ENV,
    secretPath: PATH,
    ...overrides,
  });
}

const credentials = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };

/** Runs a fetch expected to fail; checks the error's kind, its context lines and that nothing leaked. */
async function expectFailure(
  promise: Promise<unknown>,
  failure: InfisicalFailure,
  siteUrl: string,
  settings: { projectId?: string; environment?: string; secretPath?: string } = {},
): Promise<InfisicalError> {
  const error = await promise.then(
    () => assert.fail("the fetch should have failed"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof InfisicalError, `expected an InfisicalError, got ${(error as Error).name}`);
  assert.equal(error.failure, failure, error.message);
  for (const part of [
    settings.projectId ?? PROJECT,
    settings.environment ?? ENV,
    settings.secretPath ?? PATH,
    siteUrl,
  ]) {
    assert.ok(error.message.includes(part), `message names ${part}:\n${error.message}`);
  }
  assert.match(error.message, /next: /);
  assertNoSecretIn(error.message);
  assertNoSecretIn(error.stack ?? "");
  return error;
}

describe("fetchCastleSecrets against the stand-in", () => {
  it("logs in, lists once and returns the five values", async () => {
    const server = await standIn();
    const fetchBefore = globalThis.fetch;
    const values = await fetchCastleSecrets(settingsFor(server.siteUrl), credentials);
    assert.deepEqual(values, SENTINEL);
    assert.deepEqual(
      server.requests.map((r) => `${r.method} ${r.path}`),
      ["POST /api/v1/auth/universal-auth/login", "GET /api/v3/secrets/raw"],
    );
    assert.deepEqual(server.requests[1].query, {
      workspaceId: PROJECT,
      environment: ENV,
      secretPath: PATH,
      expandSecretReferences: "true",
      include_imports: "false",
      recursive: "false",
      viewSecretValue: "true",
    });
    assert.equal(server.requests[0].authorized, false);
    assert.equal(server.requests[1].authorized, true);
    assert.equal(globalThis.fetch, fetchBefore, "global fetch restored");
  });

  it("uses the configured secret names", async () => {
    const server = await standIn({
      secrets: [
        { key: "KEY", value: SENTINEL.secretboxKey },
        { key: "PVE_ID", value: SENTINEL.proxmoxTokenId },
        { key: "PVE_SECRET", value: SENTINEL.proxmoxTokenSecret },
        { key: "ESO_ID", value: SENTINEL.esoClientId },
        { key: "ESO_SECRET", value: SENTINEL.esoClientSecret },
      ],
    });
    const settings = settingsFor(server.siteUrl, {
      secretNames: {
        secretboxKey: "KEY",
        proxmoxTokenId: "PVE_ID",
        proxmoxTokenSecret: "PVE_SECRET",
        esoClientId: "ESO_ID",
        esoClientSecret: "ESO_SECRET",
      },
    });
    assert.deepEqual(await fetchCastleSecrets(settings, credentials), SENTINEL);
  });

  it("401: names the credential variables, one login attempt", async () => {
    const server = await standIn();
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(server.siteUrl), {
        clientId: CLIENT_ID,
        clientSecret: "SENTINEL-CLIENT-SECRET-wrong",
      }),
      "credentials",
      server.siteUrl,
    );
    assert.equal(error.status, 401);
    assert.match(error.message, /INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET/);
    assert.match(error.message, /Invalid credentials/);
    assert.ok(!error.message.includes("SENTINEL-CLIENT-SECRET-wrong"));
    assert.equal(server.requests.length, 1);
  });

  it("a reply that repeats the client secret twice: every copy is redacted", async () => {
    const server = await standIn({
      faults: {
        login: {
          kind: "status",
          status: 401,
          body: {
            statusCode: 401,
            error: "Unauthorized",
            message: `client secret ${CLIENT_SECRET} refused; got ${CLIENT_SECRET}`,
          },
        },
      },
    });
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(server.siteUrl), credentials),
      "credentials",
      server.siteUrl,
    );
    assert.ok(!error.message.includes(CLIENT_SECRET), "no copy of the client secret is left in the message");
    assert.equal(error.message.split("[redacted]").length - 1, 2, "both copies are replaced");
  });

  it("403: the identity may not read that folder", async () => {
    const server = await standIn();
    server.identities = [{ ...IDENTITY, grants: [{ projectId: PROJECT, environment: ENV, paths: ["/castle/green"] }] }];
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(server.siteUrl), credentials),
      "access",
      server.siteUrl,
    );
    assert.equal(error.status, 403);
    assert.match(error.message, /not allowed to read/);
    assert.equal(server.requests.length, 2);
  });

  for (const [what, overrides, said] of [
    ["project", { projectId: "11111111-2222-4333-8444-555555555555" }, /Project with ID/],
    ["environment", { environment: "staging" }, /Folder with path '\/castle\/blue' in environment 'staging'/],
    ["folder", { secretPath: "/castle/red" }, /Folder with path '\/castle\/red'/],
  ] as const) {
    it(`404: unknown ${what}`, async () => {
      const server = await standIn();
      const settings = settingsFor(server.siteUrl, overrides);
      // Grant access to what is asked for, so the answer is the 404 and not a 403.
      server.identities = [
        { ...IDENTITY, grants: [{ projectId: settings.projectId, environment: settings.environment, paths: ["/**"] }] },
      ];
      const error = await expectFailure(
        fetchCastleSecrets(settings, credentials),
        "not-found",
        server.siteUrl,
        settings,
      );
      assert.equal(error.status, 404);
      assert.match(error.message, said);
      assert.match(error.message, /castle:infisical\.projectId/);
    });
  }

  it("reports every missing secret at once", async () => {
    const server = await standIn({ secrets: folder({ PROXMOX_TOKEN_ID: null, ESO_CLIENT_SECRET: null }) });
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(server.siteUrl), credentials),
      "secrets",
      server.siteUrl,
    );
    assert.deepEqual(
      error.secretProblems.map((p) => [p.name, p.role]),
      [
        ["PROXMOX_TOKEN_ID", "proxmoxTokenId"],
        ["ESO_CLIENT_SECRET", "esoClientSecret"],
      ],
    );
    assert.match(error.message, /2 secrets are missing or invalid/);
    assert.match(error.message, /PROXMOX_TOKEN_ID \(castle:infisical\.secretNames\.proxmoxTokenId\): missing/);
    assert.match(error.message, /ESO_CLIENT_SECRET \(castle:infisical\.secretNames\.esoClientSecret\): missing/);
  });

  it("rejects an empty value", async () => {
    const server = await standIn({ secrets: folder({ PROXMOX_TOKEN_SECRET: "" }) });
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(server.siteUrl), credentials),
      "secrets",
      server.siteUrl,
    );
    assert.deepEqual(error.secretProblems, [
      { name: "PROXMOX_TOKEN_SECRET", role: "proxmoxTokenSecret", problem: "is empty" },
    ]);
  });

  it("rejects a value the identity may not read (hidden by Infisical)", async () => {
    const secrets = folder().map((s) => (s.key === "ESO_CLIENT_ID" ? { ...s, valueHidden: true } : s));
    const server = await standIn({ secrets });
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(server.siteUrl), credentials),
      "secrets",
      server.siteUrl,
    );
    assert.equal(error.secretProblems.length, 1);
    assert.equal(error.secretProblems[0].name, "ESO_CLIENT_ID");
    assert.match(error.secretProblems[0].problem, /value hidden/);
  });

  for (const [what, value, problem] of [
    ["16 bytes", BAD_VALUES[0], /decodes to 16 bytes, expected exactly 32/],
    ["not base64", BAD_VALUES[1], /is not standard base64/],
    ["url-safe alphabet", BAD_VALUES[2], /URL-safe base64 alphabet/],
  ] as const) {
    it(`rejects a secretbox key: ${what}, together with a bad token id`, async () => {
      const server = await standIn({
        secrets: folder({ TALOS_SECRETBOX_KEY: value, PROXMOX_TOKEN_ID: BAD_VALUES[3] }),
      });
      const error = await expectFailure(
        fetchCastleSecrets(settingsFor(server.siteUrl), credentials),
        "secrets",
        server.siteUrl,
      );
      assert.deepEqual(
        error.secretProblems.map((p) => p.name),
        ["TALOS_SECRETBOX_KEY", "PROXMOX_TOKEN_ID"],
      );
      assert.match(error.secretProblems[0].problem, problem);
      assert.match(error.secretProblems[1].problem, /user@realm!tokenname/);
    });
  }

  it("500 with Infisical's JSON body: server error, no retry", async () => {
    const server = await standIn({
      faults: {
        list: {
          kind: "status",
          status: 500,
          body: {
            reqId: "req-abcdefghijklmn",
            statusCode: 500,
            message: "Something went wrong",
            error: "InternalServerError",
          },
        },
      },
    });
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(server.siteUrl), credentials),
      "server",
      server.siteUrl,
    );
    assert.equal(error.status, 500);
    assert.match(error.message, /HTTP 500: "Something went wrong"/);
    assert.equal(server.requests.length, 2);
  });

  it("502 HTML from a proxy: server error, body not echoed", async () => {
    const server = await standIn({ faults: { login: { kind: "html", status: 502 } } });
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(server.siteUrl), credentials),
      "server",
      server.siteUrl,
    );
    assert.equal(error.status, 502);
    assert.match(error.message, /HTTP 502, not an Infisical JSON reply/);
    assert.doesNotMatch(error.message, /nginx|<html/);
  });

  it("422 validation failure: the reply body is not echoed", async () => {
    const server = await standIn({
      faults: {
        list: {
          kind: "status",
          status: 422,
          body: {
            reqId: "req-x",
            statusCode: 422,
            error: "ValidationFailure",
            message: "SENTINEL-ESO-SECRET-c08e92d4",
          },
        },
      },
    });
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(server.siteUrl), credentials),
      "bad-request",
      server.siteUrl,
    );
    assert.equal(error.status, 422);
  });

  it("429 until the deadline: names rate limiting and the deadline", async () => {
    const server = await standIn({ faults: { list: { kind: "rate-limit" } } });
    const timersBefore = activeTimers();
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(server.siteUrl), credentials, { timeoutMs: 400 }),
      "rate-limited",
      server.siteUrl,
    );
    assert.match(error.message, /within 0\.4 s while listing the secrets/);
    assert.match(error.message, /429: rate limited/);
    // The SDK is asleep between retries: that sleep must not hold the process open.
    assert.ok(activeTimers() <= timersBefore, "no timer left holding the process open");
  });

  it("unreachable host (closed port): names the connection failure and the deadline", async () => {
    const server = await standIn();
    const siteUrl = server.siteUrl;
    await server.close();
    const timersBefore = activeTimers();
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(siteUrl), credentials, { timeoutMs: 400 }),
      "unreachable",
      siteUrl,
    );
    assert.match(error.message, /within 0\.4 s while logging in/);
    assert.match(error.message, /unreachable \(ECONNREFUSED\)/);
    assert.ok(activeTimers() <= timersBefore, "no timer left holding the process open");
  });

  it("no headers ever: deadline error naming the timeout", async () => {
    const server = await standIn({ faults: { list: { kind: "hang" } } });
    const timersBefore = activeTimers();
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(server.siteUrl), credentials, { timeoutMs: 400 }),
      "timeout",
      server.siteUrl,
    );
    assert.match(error.message, /timeout: no complete answer within 0\.4 s while listing the secrets \(no answer yet/);
    assert.match(error.message, /castle:infisical\.timeoutSeconds/);
    assert.ok(activeTimers() <= timersBefore, "no timer left holding the process open");
  });

  it("headers then a stalled body: deadline error", async () => {
    const server = await standIn({ faults: { list: { kind: "hang-after-headers" } } });
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(server.siteUrl), credentials, { timeoutMs: 400 }),
      "timeout",
      server.siteUrl,
    );
    assert.match(error.message, /last answer HTTP 200, then no complete reply/);
  });

  it("200 with an HTML body: not an Infisical reply", async () => {
    const server = await standIn({ faults: { list: { kind: "non-json" } } });
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(server.siteUrl), credentials),
      "bad-reply",
      server.siteUrl,
    );
    assert.match(error.message, /a text body instead of a JSON object/);
  });

  it("200 login without an access token", async () => {
    const server = await standIn({ faults: { login: { kind: "status", status: 200, body: {} } } });
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(server.siteUrl), credentials),
      "bad-reply",
      server.siteUrl,
    );
    assert.match(error.message, /no access token/);
    assert.equal(server.requests.length, 1);
  });

  it("200 list whose items lack secretValue", async () => {
    const server = await standIn({
      faults: { list: { kind: "status", status: 200, body: { secrets: [{ secretKey: "TALOS_SECRETBOX_KEY" }] } } },
    });
    const error = await expectFailure(
      fetchCastleSecrets(settingsFor(server.siteUrl), credentials),
      "bad-reply",
      server.siteUrl,
    );
    assert.match(error.message, /secrets\[0\] has no string secretKey and secretValue/);
  });

  it("INFISICAL_SITE_URL in the credentials overrides the stack's site URL", async () => {
    const server = await standIn();
    const settings = settingsFor("https://eu.infisical.com");
    const values = await fetchCastleSecrets(settings, { ...credentials, siteUrl: server.siteUrl });
    assert.equal(values.esoClientId, SENTINEL.esoClientId);
    assert.equal(server.requests.length, 2);
  });
});

/** Ref'd timers of this process (unref'd ones do not hold it open). */
function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

describe("diagnoseCastleSecrets", () => {
  it("reports each secret ok and the request count", async () => {
    const server = await standIn();
    const report = await diagnoseCastleSecrets(settingsFor(server.siteUrl), credentials);
    assert.equal(report.error, undefined);
    assert.equal(report.httpRequests, 2);
    assert.deepEqual(report.secrets, [
      { name: "TALOS_SECRETBOX_KEY", role: "secretboxKey", status: "ok" },
      { name: "PROXMOX_TOKEN_ID", role: "proxmoxTokenId", status: "ok" },
      { name: "PROXMOX_TOKEN_SECRET", role: "proxmoxTokenSecret", status: "ok" },
      { name: "ESO_CLIENT_ID", role: "esoClientId", status: "ok" },
      { name: "ESO_CLIENT_SECRET", role: "esoClientSecret", status: "ok" },
    ]);
  });

  it("reports problems per secret, without values", async () => {
    const server = await standIn({ secrets: folder({ TALOS_SECRETBOX_KEY: BAD_VALUES[0], ESO_CLIENT_ID: null }) });
    const report = await diagnoseCastleSecrets(settingsFor(server.siteUrl), credentials);
    assert.equal(report.error, undefined);
    assert.deepEqual(
      report.secrets.map((s) => (s.status === "ok" ? "ok" : s.status.split(":")[0].split(" ")[0])),
      ["decodes", "ok", "ok", "missing", "ok"],
    );
    assertNoSecretIn(JSON.stringify(report));
  });

  it("counts the login retried after a 429 among the requests", async () => {
    const server = await standIn({ faults: { login: { kind: "rate-limit", times: 1 } } });
    const report = await withRetrySleepsShortened(() =>
      diagnoseCastleSecrets(settingsFor(server.siteUrl), credentials),
    );
    // One 429, one successful login after the SDK's backoff, one list.
    assert.equal(report.error, undefined);
    assert.equal(report.httpRequests, 3);
    assert.equal(server.requests.length, 3);
  });

  it("sets the error and marks the secrets unchecked when login fails", async () => {
    const server = await standIn();
    const report = await diagnoseCastleSecrets(settingsFor(server.siteUrl), { ...credentials, clientSecret: "nope" });
    assert.ok(report.error instanceof InfisicalError);
    assert.equal(report.error.failure, "credentials");
    assert.equal(report.httpRequests, 1);
    assert.deepEqual(
      report.secrets.map((s) => s.status),
      Array(5).fill("not checked"),
    );
  });
});

describe("credentialsFromEnv", () => {
  it("reads the identity and the optional site URL", () => {
    assert.deepEqual(credentialsFromEnv({ INFISICAL_CLIENT_ID: "id", INFISICAL_CLIENT_SECRET: "s" }), {
      clientId: "id",
      clientSecret: "s",
    });
    assert.deepEqual(
      credentialsFromEnv({
        INFISICAL_CLIENT_ID: "id",
        INFISICAL_CLIENT_SECRET: "s",
        INFISICAL_SITE_URL: "http://127.0.0.1:8080",
      }),
      { clientId: "id", clientSecret: "s", siteUrl: "http://127.0.0.1:8080" },
    );
  });

  it("names every missing variable and never the values", () => {
    assert.throws(
      () => credentialsFromEnv({}),
      (e: unknown) =>
        e instanceof InfisicalError &&
        e.failure === "credentials" &&
        /INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET are not set/.test(e.message),
    );
    assert.throws(
      () => credentialsFromEnv({ INFISICAL_CLIENT_SECRET: CLIENT_SECRET, INFISICAL_CLIENT_ID: " " }),
      (e: unknown) =>
        e instanceof InfisicalError &&
        /INFISICAL_CLIENT_ID is not set/.test(e.message) &&
        !e.message.includes(CLIENT_SECRET),
    );
  });

  it("accepts https or loopback http only for INFISICAL_SITE_URL", () => {
    const env = { INFISICAL_CLIENT_ID: "id", INFISICAL_CLIENT_SECRET: CLIENT_SECRET };
    for (const url of ["http://infisical.example.com", "eu.infisical.com", "ftp://127.0.0.1"]) {
      assert.throws(
        () => credentialsFromEnv({ ...env, INFISICAL_SITE_URL: url }),
        (e: unknown) =>
          e instanceof InfisicalError && e.failure === "config" && /^INFISICAL_SITE_URL: /.test(e.message),
        url,
      );
    }
  });

  it("refuses a site URL carrying a password, a user or a query, with or without //, and never repeats it", () => {
    const env = { INFISICAL_CLIENT_ID: "id", INFISICAL_CLIENT_SECRET: CLIENT_SECRET };
    const rows: [string, string, RegExp][] = [
      ["https:root:Hunter2pw@infisical.example.com", "Hunter2pw", /written with its scheme and '\/\/'/],
      ["https://root:Hunter2pw@infisical.example.com", "Hunter2pw", /carries a password/],
      ["https://st.Hunter2tok@infisical.example.com", "Hunter2tok", /carries a user or token/],
      ["https://infisical.example.com/?token=Hunter2q", "Hunter2q", /carries a query/],
      ["https://ghp_0123456789abcdefghijABCDEFGHIJ012345@x.example", "ghp_0123", /looks like a GitHub token/],
    ];
    for (const [url, secret, says] of rows) {
      assert.throws(
        () => credentialsFromEnv({ ...env, INFISICAL_SITE_URL: url }),
        (e: unknown) => e instanceof InfisicalError && says.test(e.message) && !e.message.includes(secret),
        url,
      );
    }
    assert.equal(
      credentialsFromEnv({ ...env, INFISICAL_SITE_URL: "https://infisical.example.com" }).siteUrl,
      "https://infisical.example.com",
    );
  });
});

describe("secretboxKeyProblem", () => {
  const cases: [string, string, RegExp | undefined][] = [
    ["32 bytes, standard", Buffer.alloc(32, 0xfb).toString("base64"), undefined],
    ["32 bytes, sentinel", SENTINEL.secretboxKey, undefined],
    ["empty", "", /^is empty$/],
    ["16 bytes", Buffer.alloc(16, 1).toString("base64"), /decodes to 16 bytes, expected exactly 32/],
    ["33 bytes", Buffer.alloc(33, 1).toString("base64"), /decodes to 33 bytes/],
    ["url-safe", Buffer.alloc(32, 0xfb).toString("base64url"), /URL-safe/],
    ["unpadded", Buffer.alloc(32, 1).toString("base64").replace(/=+$/, ""), /not padded base64 \(its length, 43/],
    ["trailing newline", `${Buffer.alloc(32, 1).toString("base64")}\n`, /whitespace/],
    ["other characters", "*".repeat(44), /not standard base64/],
    ["non-canonical", `${Buffer.alloc(32, 0).toString("base64").slice(0, 42)}B=`, /not canonical/],
  ];
  for (const [what, value, expected] of cases) {
    it(what, () => {
      const problem = secretboxKeyProblem(value);
      if (expected === undefined) assert.equal(problem, undefined);
      else assert.match(problem ?? "(none)", expected);
    });
  }
});

describe("weakSecretboxKeyProblem: a well-formed key that is guessable", () => {
  const printable = Buffer.from("castle-render-placeholder-key-32").toString("base64");
  const cases: [string, string, RegExp | undefined][] = [
    ["32 zero bytes", Buffer.alloc(32, 0).toString("base64"), /one byte repeated 32 times/],
    ["one byte repeated", Buffer.alloc(32, 0xfb).toString("base64"), /one byte repeated/],
    ["castle render's placeholder (printable text)", printable, /printable text only/],
    ["an ASCII passphrase", Buffer.from("correct horse battery staple!!!!").toString("base64"), /printable text/],
    [
      "two bytes alternating",
      Buffer.from(Array.from({ length: 32 }, (_, i) => (i % 2 ? 0x80 : 0x81))).toString("base64"),
      /too little entropy \(1\.00 bits/,
    ],
    [
      "eight distinct bytes",
      Buffer.from(Array.from({ length: 32 }, (_, i) => 0x80 + (i % 8))).toString("base64"),
      /too little entropy \(3\.00 bits/,
    ],
    ["a random key", testSecretboxKey("weak-table"), undefined],
    ["the test sentinel", SENTINEL.secretboxKey, undefined],
  ];
  for (const [what, value, expected] of cases) {
    it(what, () => {
      const problem = weakSecretboxKeyProblem(value);
      if (expected === undefined) assert.equal(problem, undefined);
      else {
        assert.match(problem ?? "(none)", expected);
        assert.match(problem ?? "", /openssl rand -base64 32/);
        assert.ok(!(problem ?? "").includes(value));
      }
    });
  }
  it("the fetch refuses a weak key (program and doctor share it)", () => {
    assert.match(secretValueProblem("secretboxKey", Buffer.alloc(32, 0).toString("base64")) ?? "", /one byte repeated/);
    assert.match(secretValueProblem("secretboxKey", printable) ?? "", /printable text/);
  });
  it("32 random bytes pass the strength rules (1000 draws)", () => {
    for (let i = 0; i < 1000; i++) {
      assert.equal(weakSecretboxKeyProblem(randomBytes(32).toString("base64")), undefined);
    }
  });
});

describe("secretValueProblem", () => {
  const cases: [Parameters<typeof secretValueProblem>[0], string, RegExp | undefined][] = [
    ["proxmoxTokenId", "castle@pve!pulumi", undefined],
    ["proxmoxTokenId", "root@pam!ci-2", undefined],
    ["proxmoxTokenId", "castle@pve", /user@realm!tokenname/],
    ["proxmoxTokenId", "castle!pulumi", /user@realm!tokenname/],
    ["proxmoxTokenId", "castle@pve!", /user@realm!tokenname/],
    ["proxmoxTokenSecret", "5f0a7c2e-0c1d-4f7e-9a55-2b0f4c1d9e3a", undefined],
    ["proxmoxTokenSecret", " padded ", /whitespace/],
    ["esoClientSecret", "", /^is empty$/],
  ];
  for (const [role, value, expected] of cases) {
    it(`${role}: ${expected ? "rejects" : "accepts"} ${JSON.stringify(value)}`, () => {
      const problem = secretValueProblem(role, value);
      if (expected === undefined) assert.equal(problem, undefined);
      else assert.match(problem ?? "(none)", expected);
    });
  }
});
