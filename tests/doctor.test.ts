import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parseDocument } from "yaml";
import { main } from "../cli/castle";
import { InfisicalStandIn, type StandInSecret } from "../offline/infisical-stand-in";
import { testSecretboxKey } from "./support/keys";

const PROJECT_ROOT = path.join(__dirname, "..");
/** The blue stack's Infisical coordinates (Pulumi.blue.yaml). */
const PROJECT = "4f6c2a8e-7b1d-4c3e-9a5f-2d8b6e1c0a97";
const ENV = "prod";
const PATH = "/castle/blue";
/** The cluster's folder (castle:eso.secretsPath of Pulumi.blue.yaml). */
const APPS = "/apps/blue";

const CLIENT_ID = "castle-doctor-identity";
const CLIENT_SECRET = "SENTINEL-DOCTOR-CLIENT-SECRET-5e7a";
const VALUES: Record<string, string> = {
  TALOS_SECRETBOX_KEY: testSecretboxKey("doctor"),
  PROXMOX_TOKEN_ID: "sentinel-doctor@pve!doctortoken",
  PROXMOX_TOKEN_SECRET: "SENTINEL-DOCTOR-PVE-SECRET-81c2",
  ESO_CLIENT_ID: "SENTINEL-DOCTOR-ESO-ID-4410",
  ESO_CLIENT_SECRET: "SENTINEL-DOCTOR-ESO-SECRET-d93f",
};
/** An application secret in the cluster's folder: read by doctor as the cluster's identity, never printed. */
const APP_VALUE = "SENTINEL-DOCTOR-APP-VALUE-a1b2";
/** The Git token Flux's pull secret is built from (castle:gitops.credentials.token of blue): ESO's, never printed. */
const GIT_TOKEN = "SENTINEL-DOCTOR-GIT-TOKEN-77aa";
const SENTINELS = [...Object.values(VALUES), CLIENT_SECRET, APP_VALUE, GIT_TOKEN];
/** The cluster's identity: its own permissions, its own folder only. */
const ESO_ONLY_APPS = {
  clientId: VALUES.ESO_CLIENT_ID,
  clientSecret: VALUES.ESO_CLIENT_SECRET,
  grants: [{ projectId: PROJECT, environment: ENV, paths: [APPS] }],
};

const ENV_OK = { INFISICAL_CLIENT_ID: CLIENT_ID, INFISICAL_CLIENT_SECRET: CLIENT_SECRET };

let server: InfisicalStandIn;
let projectDir: string;

before(async () => {
  server = new InfisicalStandIn({
    identities: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        grants: [{ projectId: PROJECT, environment: ENV, paths: [PATH] }],
      },
      ESO_ONLY_APPS,
    ],
  });
  await server.start();
  // A copy of the blue stack whose Infisical site is the stand-in.
  projectDir = mkdtempSync(path.join(tmpdir(), "castle-doctor-"));
  const stackFile = parseDocument(readFileSync(path.join(PROJECT_ROOT, "Pulumi.blue.yaml"), "utf8"));
  stackFile.setIn(["config", "castle:infisical", "siteUrl"], server.siteUrl);
  writeFileSync(path.join(projectDir, "Pulumi.blue.yaml"), stackFile.toString());
});

after(async () => {
  await server.close();
  rmSync(projectDir, { recursive: true, force: true });
});

function useSecrets(values: Record<string, string>, esoGrants = ESO_ONLY_APPS.grants, gitToken = true): void {
  const secrets: StandInSecret[] = Object.entries(values).map(([key, value]) => ({ key, value }));
  const apps: StandInSecret[] = [{ key: "GRAFANA_ADMIN_PASSWORD", value: APP_VALUE }];
  if (gitToken) apps.push({ key: "FLUX_GIT_TOKEN", value: GIT_TOKEN });
  server.projects = { [PROJECT]: { [ENV]: { [PATH]: secrets, [APPS]: apps } } };
  server.identities = [server.identities[0], { ...ESO_ONLY_APPS, grants: esoGrants }];
  server.requests.length = 0;
  server.statusProbes.length = 0;
}

async function runDoctor(env: NodeJS.ProcessEnv, stack = "blue") {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(["doctor", stack], projectDir, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    env,
  });
  const text = [...out, ...err].join("\n");
  for (const value of SENTINELS) {
    assert.ok(!text.includes(value), `secret value #${SENTINELS.indexOf(value)} was printed`);
  }
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("castle doctor", () => {
  it("fails when the Git token that castle:gitops.credentials names is not in the cluster's folder", async () => {
    useSecrets(VALUES, ESO_ONLY_APPS.grants, false);
    const { code, out, err } = await runDoctor(ENV_OK);
    assert.equal(code, 1);
    assert.match(out, /^FLUX_GIT_TOKEN \(castle:gitops\.credentials\.token\): missing in \/apps\/blue$/m);
    assert.match(
      err,
      /FLUX_GIT_TOKEN, named by castle:gitops\.credentials\.token, is not in the cluster's folder \/apps\/blue .*Create it there \(the program never reads it\)/,
    );
    assert.doesNotMatch(out, /reads its own folder only/);
  });

  it("all secrets ok: exit 0, a table of statuses and the request count", async () => {
    useSecrets(VALUES);
    const { code, out, err } = await runDoctor(ENV_OK);
    assert.equal(code, 0, err);
    assert.match(out, /^stack blue \(Pulumi\.blue\.yaml\): ok$/m);
    assert.match(out, /^TALOS_SECRETBOX_KEY\s+secretboxKey\s+ok$/m);
    assert.match(out, /^ESO_CLIENT_SECRET\s+esoClientSecret\s+ok$/m);
    assert.equal(out.match(/^[A-Z_]+ +[a-zA-Z]+ +ok$/gm)?.length, 5);
    assert.match(out, /^2 HTTP requests$/m);
    assert.match(out, /^all 5 secrets ok$/m);
    assert.equal(err, "");
    assert.match(out, /^ {2}own folder {5}\/apps\/blue: listed \(2 secrets\)$/m);
    assert.match(out, /^FLUX_GIT_TOKEN \(castle:gitops\.credentials\.token\): ok in \/apps\/blue$/m);
    assert.match(out, /^ {2}castle folder {2}\/castle\/blue: refused \(HTTP 403\)$/m);
    assert.match(out, /^the cluster's identity reads its own folder only$/m);
    assert.deepEqual(
      server.requests.map((r) => `${r.method} ${r.path} ${r.query.secretPath ?? ""}`.trim()),
      [
        "POST /api/v1/auth/universal-auth/login",
        `GET /api/v3/secrets/raw ${PATH}`,
        "POST /api/v1/auth/universal-auth/login",
        `GET /api/v3/secrets/raw ${APPS}`,
        `GET /api/v3/secrets/raw ${PATH}`,
      ],
    );
    // The castle's folder is listed as the cluster's identity without values.
    assert.equal(server.requests[4].query.viewSecretValue, "false");
    // Before it, one look at /api/status: the site answers HTTP (reach.ts), unauthenticated.
    assert.deepEqual(server.statusProbes, [{ method: "GET", path: "/api/status", query: {}, authorized: false }]);
  });

  it("the cluster's identity can read the castle's folder: exit 1, naming the identity, the folder and the fix", async () => {
    useSecrets(VALUES, [{ projectId: PROJECT, environment: ENV, paths: ["/**"] }]);
    const { code, out, err } = await runDoctor(ENV_OK);
    assert.equal(code, 1);
    assert.match(out, /^ {2}castle folder {2}\/castle\/blue: listed \(5 secrets, values hidden\)$/m);
    const identityId = server.identityIdOf(VALUES.ESO_CLIENT_ID);
    assert.ok(
      err.includes(
        `the cluster's identity ${identityId} (credentials ESO_CLIENT_ID/ESO_CLIENT_SECRET) can list the castle's folder /castle/blue`,
      ),
      err,
    );
    assert.match(err, /could copy the secretbox key, the Proxmox token and ESO's own credentials/);
    assert.match(err, /carry the condition "Secret Path" equal to \/apps\/blue/);
    assert.doesNotMatch(out, /reads its own folder only/);
  });

  it("the cluster's identity cannot read its own folder: exit 1, saying so", async () => {
    useSecrets(VALUES, [{ projectId: PROJECT, environment: ENV, paths: ["/apps/green"] }]);
    const { code, out, err } = await runDoctor(ENV_OK);
    assert.equal(code, 1);
    assert.match(out, /^ {2}own folder {5}\/apps\/blue: refused \(HTTP 403\)$/m);
    assert.match(
      err,
      /may not read its own folder \/apps\/blue .*HTTP 403\): the ClusterSecretStore would not become Ready/,
    );
  });

  it("ESO sharing the program's identity is refused, as up refuses it, before logging in as it", async () => {
    useSecrets({ ...VALUES, ESO_CLIENT_ID: CLIENT_ID, ESO_CLIENT_SECRET: CLIENT_SECRET });
    const { code, err } = await runDoctor(ENV_OK);
    assert.equal(code, 1);
    assert.match(err, /ESO machine identity .* is the same identity this program logs in with/);
    assert.equal(server.requests.length, 2, "no login as the cluster's identity");
  });

  it("with INFISICAL_TOKEN: no login for the castle's secrets, then the same wall check", async () => {
    useSecrets(VALUES);
    const token = server.issueToken(CLIENT_ID);
    const { code, out, err } = await runDoctor({ INFISICAL_TOKEN: token });
    assert.equal(code, 0, err);
    assert.match(out, /^1 HTTP request$/m);
    assert.deepEqual(server.requests.map((r) => `${r.method} ${r.path}`).slice(0, 2), [
      "GET /api/v3/secrets/raw",
      "POST /api/v1/auth/universal-auth/login",
    ]);
    assert.ok(!`${out}\n${err}`.includes(token), "the access token was printed");
  });

  it("with INFISICAL_TOKEN of the very identity ESO uses: refused by identity id", async () => {
    useSecrets(VALUES);
    // That identity may read the castle's folder here (it is the program's, too).
    server.identities[1] = {
      ...ESO_ONLY_APPS,
      grants: [{ projectId: PROJECT, environment: ENV, paths: [PATH, APPS] }],
    };
    const token = server.issueToken(VALUES.ESO_CLIENT_ID);
    const { code, err } = await runDoctor({ INFISICAL_TOKEN: token });
    assert.equal(code, 1);
    assert.ok(
      err.includes(
        `is the same identity (${server.identityIdOf(VALUES.ESO_CLIENT_ID)}) as the one whose access token this program uses (INFISICAL_TOKEN)`,
      ),
      err,
    );
  });

  it("a missing secret: exit 1, the secret named with its problem", async () => {
    const { PROXMOX_TOKEN_SECRET: _dropped, ...rest } = VALUES;
    useSecrets(rest);
    const { code, out } = await runDoctor(ENV_OK);
    assert.equal(code, 1);
    assert.match(out, /^PROXMOX_TOKEN_SECRET\s+proxmoxTokenSecret\s+missing: no secret with this name/m);
    assert.equal(out.match(/^[A-Z_]+ +[a-zA-Z]+ +ok$/gm)?.length, 4);
    assert.match(out, /^2 HTTP requests$/m);
    assert.match(out, /^1 of 5 secrets need attention/m);
  });

  it("bad credentials: exit 1, the login failure explained", async () => {
    useSecrets(VALUES);
    const { code, out, err } = await runDoctor({ ...ENV_OK, INFISICAL_CLIENT_SECRET: "SENTINEL-DOCTOR-wrong-secret" });
    assert.equal(code, 1);
    assert.equal(out.match(/^[A-Z_]+ +[a-zA-Z]+ +not checked$/gm)?.length, 5);
    assert.match(out, /^1 HTTP request$/m);
    assert.match(err, /the machine identity was rejected/);
    assert.match(err, /HTTP 401: "Invalid credentials"/);
    assert.ok(!err.includes("SENTINEL-DOCTOR-wrong-secret"));
  });

  it("missing credentials: exit 1 before any request", async () => {
    useSecrets(VALUES);
    const { code, err } = await runDoctor({ INFISICAL_CLIENT_ID: CLIENT_ID });
    assert.equal(code, 1);
    assert.match(err, /INFISICAL_CLIENT_SECRET is not set/);
    assert.equal(server.requests.length, 0);
  });

  it("an invalid stack: exit 1 as check does, before any request", async () => {
    useSecrets(VALUES);
    const { code, out } = await runDoctor(ENV_OK, "purple");
    assert.equal(code, 1);
    assert.match(out, /Pulumi\.\w+\.yaml: no such file/);
    assert.equal(server.requests.length, 0);
  });
});
