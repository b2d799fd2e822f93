/**
 * The preview workflow's OIDC step, run as the runner runs it (bash, node) against a fake of
 * GitHub's ID-token endpoint and the Infisical stand-in's OIDC login: it must leave a working
 * INFISICAL_TOKEN in $GITHUB_ENV, mask both tokens, and fail when Infisical refuses the subject.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { fetchCastleSecrets } from "../config/infisical";
import { InfisicalSchema } from "../config/schema";
import { InfisicalStandIn } from "../offline/infisical-stand-in";

const ROOT = path.resolve(__dirname, "..");
const PROJECT = "0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d";
const SUBJECT = "repo:castle-org/castle:environment:preview";
const AUDIENCE = "https://github.com/castle-org";
const REQUEST_TOKEN = "SENTINEL-ACTIONS-REQUEST-TOKEN-0f3e";
const IDENTITY_ID = "5a0e9c1d-preview-identity";

interface Step {
  name?: string;
  run?: string;
}
const previewSteps = (
  parse(readFileSync(path.join(ROOT, ".github/workflows/preview.yml"), "utf8")) as {
    jobs: { "preview-config": { steps: Step[] } };
  }
).jobs["preview-config"].steps;
const exchange = previewSteps.find((s) => (s.run ?? "").includes("oidc-auth/login"))?.run ?? "";

let server: InfisicalStandIn;
let github: Server;
let githubUrl = "";
let claims = { sub: SUBJECT, aud: AUDIENCE };
let dir: string;

/** GitHub's ID-token endpoint: `GET <url>&audience=<aud>` with the request token -> `{value: <jwt>}`. */
function fakeGitHub(): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://github");
    if (req.headers.authorization !== `bearer ${REQUEST_TOKEN}` || url.searchParams.get("audience") !== AUDIENCE) {
      res.writeHead(401).end('{"message":"bad request token or audience"}');
      return;
    }
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const jwt = `${part({ alg: "RS256", typ: "JWT" })}.${part({ ...claims, iss: "https://token.actions.githubusercontent.com" })}.c2ln`;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ count: 1, value: jwt }));
  });
}

function runStep(envFile: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      ["-e", "-c", exchange],
      {
        env: {
          PATH: process.env.PATH,
          ACTIONS_ID_TOKEN_REQUEST_URL: `${githubUrl}/token?api-version=2.0`,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
          IDENTITY_ID,
          AUDIENCE,
          INFISICAL_SITE_URL: server.siteUrl,
          GITHUB_ENV: envFile,
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

before(async () => {
  server = new InfisicalStandIn({
    identities: [
      {
        clientId: "preview-identity-has-no-secret",
        clientSecret: "",
        identityId: IDENTITY_ID,
        oidc: { subject: SUBJECT, audience: AUDIENCE },
        grants: [{ projectId: PROJECT, environment: "prod", paths: ["/castle/blue"] }],
      },
    ],
    projects: { [PROJECT]: { prod: { "/castle/blue": [{ key: "TALOS_SECRETBOX_KEY", value: "x" }] } } },
  });
  await server.start();
  github = fakeGitHub();
  await new Promise<void>((resolve) => github.listen(0, "127.0.0.1", () => resolve()));
  githubUrl = `http://127.0.0.1:${(github.address() as AddressInfo).port}`;
  dir = mkdtempSync(path.join(tmpdir(), "castle-oidc-"));
});

after(async () => {
  await server.close();
  await new Promise<void>((resolve) => github.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe("the preview's OIDC exchange", () => {
  it("leaves a short-lived INFISICAL_TOKEN in $GITHUB_ENV, both tokens masked", async () => {
    claims = { sub: SUBJECT, aud: AUDIENCE };
    const envFile = path.join(dir, "env-ok");
    const { code, stdout, stderr } = await runStep(envFile);
    assert.equal(code, 0, stderr);
    const line = readFileSync(envFile, "utf8").trim();
    const token = /^INFISICAL_TOKEN=(.+)$/.exec(line)?.[1];
    assert.ok(token, line);
    const masks = stdout.split("\n").filter((l) => l.startsWith("::add-mask::"));
    assert.equal(masks.length, 2, "the JWT and the access token are masked");
    assert.equal(masks[1], `::add-mask::${token}`);
    assert.ok(!stderr.includes(token) && !stdout.includes(REQUEST_TOKEN));

    server.requests.length = 0;
    const settings = InfisicalSchema.parse({
      siteUrl: server.siteUrl,
      projectId: PROJECT,
      projectSlug: "castle",
      environment: "prod",
      secretPath: "/castle/blue",
    });
    // The castle's five secrets are not all there: the point is that the token is accepted, with no login.
    const error = await fetchCastleSecrets(settings, { accessToken: token }).catch((e: Error) => e);
    assert.equal((error as { failure?: string }).failure, "secrets");
    assert.deepEqual(
      server.requests.map((r) => `${r.method} ${r.path}`),
      ["GET /api/v3/secrets/raw"],
    );
  });

  it("fails, writing nothing, when Infisical refuses the token's subject", async () => {
    claims = { sub: "repo:castle-org/castle:pull_request", aud: AUDIENCE };
    const envFile = path.join(dir, "env-refused");
    const { code } = await runStep(envFile);
    assert.notEqual(code, 0);
    assert.throws(() => readFileSync(envFile, "utf8"), /ENOENT/);
  });
});
