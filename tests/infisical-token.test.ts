/**
 * `INFISICAL_TOKEN`: a short-lived access token instead of a machine identity's client id and secret.
 * With it the fetch sends exactly one request (the list) and no login.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fetchCastleSecrets } from "../config/infisical";
import { credentialsFromEnv, tokenIdentityId } from "../config/infisical-credentials";
import type { InfisicalError, InfisicalSettings } from "../config/infisical-errors";
import { InfisicalSchema } from "../config/schema";
import { InfisicalStandIn } from "../offline/infisical-stand-in";
import { testSecretboxKey } from "./support/keys";

const PROJECT = "0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d";
const ENV = "prod";
const PATH = "/castle/blue";
const CLIENT_ID = "castle-program-identity";
const CLIENT_SECRET = "SENTINEL-TOKEN-TEST-CLIENT-SECRET-4b1e";
const VALUES = {
  TALOS_SECRETBOX_KEY: testSecretboxKey("token"),
  PROXMOX_TOKEN_ID: "sentinel-token@pve!tokentest",
  PROXMOX_TOKEN_SECRET: "SENTINEL-TOKEN-TEST-PVE-SECRET-77aa",
  ESO_CLIENT_ID: "SENTINEL-TOKEN-TEST-ESO-ID-19c0",
  ESO_CLIENT_SECRET: "SENTINEL-TOKEN-TEST-ESO-SECRET-e5d2",
};

let server: InfisicalStandIn;
let settings: InfisicalSettings;

before(async () => {
  server = InfisicalStandIn.forFolder({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    projectId: PROJECT,
    environment: ENV,
    secretPath: PATH,
    secrets: VALUES,
  });
  await server.start();
  settings = InfisicalSchema.parse({
    siteUrl: server.siteUrl,
    projectId: PROJECT,
    projectSlug: "castle-test",
    environment: ENV,
    secretPath: PATH,
  });
});
after(() => server.close());

describe("INFISICAL_TOKEN", () => {
  it("is taken from the environment instead of a client id and secret", () => {
    const token = server.issueToken(CLIENT_ID);
    const credentials = credentialsFromEnv({ INFISICAL_TOKEN: `${token}\n`, INFISICAL_SITE_URL: server.siteUrl });
    assert.deepEqual(credentials, { accessToken: token, siteUrl: server.siteUrl });
  });

  it("is refused beside a client id or secret, without echoing either", () => {
    const token = server.issueToken(CLIENT_ID);
    const error = (() => {
      try {
        credentialsFromEnv({ INFISICAL_TOKEN: token, INFISICAL_CLIENT_SECRET: CLIENT_SECRET });
      } catch (e) {
        return e as InfisicalError;
      }
      return assert.fail("both were accepted");
    })();
    assert.equal(error.failure, "credentials");
    assert.match(error.message, /INFISICAL_TOKEN and INFISICAL_CLIENT_SECRET are all set/);
    assert.ok(!error.message.includes(token) && !error.message.includes(CLIENT_SECRET));
  });

  it("is refused when it holds whitespace inside, without echoing it", () => {
    assert.throws(
      () => credentialsFromEnv({ INFISICAL_TOKEN: "SENTINEL-part-one SENTINEL-part-two" }),
      (e: InfisicalError) => /INFISICAL_TOKEN contains whitespace/.test(e.message) && !e.message.includes("SENTINEL"),
    );
  });

  it("fetches with one request and no login", async () => {
    const token = server.issueToken(CLIENT_ID);
    server.requests.length = 0;
    const values = await fetchCastleSecrets(settings, { accessToken: token });
    assert.equal(values.secretboxKey, VALUES.TALOS_SECRETBOX_KEY);
    assert.equal(values.esoClientSecret, VALUES.ESO_CLIENT_SECRET);
    assert.deepEqual(
      server.requests.map((r) => `${r.method} ${r.path} ${r.authorized ? "with" : "without"} bearer`),
      ["GET /api/v3/secrets/raw with bearer"],
    );
    assert.equal(server.requestsTo("login").length, 0);
  });

  it("an expired or revoked token: a credentials failure naming INFISICAL_TOKEN, the token never shown", async () => {
    const token = server.issueToken(CLIENT_ID);
    server.revokeTokens();
    server.requests.length = 0;
    const error = await fetchCastleSecrets(settings, { accessToken: token }).then(
      () => assert.fail("a revoked token was accepted"),
      (e: unknown) => e as InfisicalError,
    );
    assert.equal(error.failure, "credentials", error.message);
    assert.match(
      error.message,
      /did not accept the access token in INFISICAL_TOKEN while listing the secrets \(HTTP 401/,
    );
    assert.match(error.message, /next: the token may have expired/);
    assert.ok(!error.message.includes(token) && !(error.stack ?? "").includes(token));
    assert.equal(server.requests.length, 1);
    assert.equal(server.requestsTo("login").length, 0);
  });

  it("carries its identity's id, which tells two identities apart", () => {
    assert.equal(tokenIdentityId(server.issueToken(CLIENT_ID)), server.identityIdOf(CLIENT_ID));
    assert.equal(tokenIdentityId("not-a-jwt"), undefined);
    assert.equal(tokenIdentityId("a.bm90IGpzb24.c"), undefined);
  });
});
