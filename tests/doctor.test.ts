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
/** The Git credential's folder (castle:gitops.secretsPath of Pulumi.blue.yaml). */
const GITOPS = "/gitops/blue";

const CLIENT_ID = "castle-doctor-identity";
const CLIENT_SECRET = "SENTINEL-DOCTOR-CLIENT-SECRET-5e7a";
const VALUES: Record<string, string> = {
  TALOS_SECRETBOX_KEY: testSecretboxKey("doctor"),
  PROXMOX_TOKEN_ID: "sentinel-doctor@pve!doctortoken",
  PROXMOX_TOKEN_SECRET: "SENTINEL-DOCTOR-PVE-SECRET-81c2",
  ESO_CLIENT_ID: "SENTINEL-DOCTOR-ESO-ID-4410",
  ESO_CLIENT_SECRET: "SENTINEL-DOCTOR-ESO-SECRET-d93f",
  GITOPS_CLIENT_ID: "SENTINEL-DOCTOR-GITOPS-ID-21c7",
  GITOPS_CLIENT_SECRET: "SENTINEL-DOCTOR-GITOPS-SECRET-e4b0",
};
/** An application secret in the cluster's folder: read by doctor as the cluster's identity, never printed. */
const APP_VALUE = "SENTINEL-DOCTOR-APP-VALUE-a1b2";
/** The Git token Flux's pull secret is built from (castle:gitops.credentials.token of blue): ESO's, never printed. */
const GIT_TOKEN = "SENTINEL-DOCTOR-GIT-TOKEN-77aa";
/** The Git server's CA (castle:gitops.credentials.caCert of blue): not a secret, yet never printed either. */
const GIT_CA = "-----BEGIN CERTIFICATE-----\nSENTINEL-DOCTOR-CA-3f19\n-----END CERTIFICATE-----";
const SENTINELS = [...Object.values(VALUES), CLIENT_SECRET, APP_VALUE, GIT_TOKEN, "SENTINEL-DOCTOR-CA-3f19"];
/** The cluster's identity: its own permissions, its own folder only. */
const ESO_ONLY_APPS = {
  clientId: VALUES.ESO_CLIENT_ID,
  clientSecret: VALUES.ESO_CLIENT_SECRET,
  grants: [{ projectId: PROJECT, environment: ENV, paths: [APPS] }],
};
/** The Git credential's identity: its own folder only. */
const GIT_ONLY = {
  clientId: VALUES.GITOPS_CLIENT_ID,
  clientSecret: VALUES.GITOPS_CLIENT_SECRET,
  grants: [{ projectId: PROJECT, environment: ENV, paths: [GITOPS] }],
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
      GIT_ONLY,
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

function useSecrets(
  values: Record<string, string>,
  esoGrants = ESO_ONLY_APPS.grants,
  gitToken = true,
  gitGrants = GIT_ONLY.grants,
  alsoInApps: StandInSecret[] = [],
): void {
  const secrets: StandInSecret[] = Object.entries(values).map(([key, value]) => ({ key, value }));
  const apps: StandInSecret[] = [{ key: "GRAFANA_ADMIN_PASSWORD", value: APP_VALUE }, ...alsoInApps];
  const gitops: StandInSecret[] = [{ key: "GIT_CA_CERT", value: GIT_CA }];
  if (gitToken) gitops.push({ key: "FLUX_GIT_TOKEN", value: GIT_TOKEN });
  server.projects = { [PROJECT]: { [ENV]: { [PATH]: secrets, [APPS]: apps, [GITOPS]: gitops } } };
  server.identities = [
    server.identities[0],
    { ...ESO_ONLY_APPS, grants: esoGrants },
    { ...GIT_ONLY, grants: gitGrants },
  ];
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
  it("fails when the Git token that castle:gitops.credentials names is not in the Git credential's folder", async () => {
    useSecrets(VALUES, ESO_ONLY_APPS.grants, false);
    const { code, out, err } = await runDoctor(ENV_OK);
    assert.equal(code, 1);
    assert.match(out, /^FLUX_GIT_TOKEN \(castle:gitops\.credentials\.token\): missing in \/gitops\/blue$/m);
    assert.match(out, /^GIT_CA_CERT \(castle:gitops\.credentials\.caCert\): ok in \/gitops\/blue$/m);
    assert.match(
      err,
      /FLUX_GIT_TOKEN, named by castle:gitops\.credentials\.token, is not in the Git credential's folder \/gitops\/blue .*Create it there \(the program never reads it\)/,
    );
    assert.doesNotMatch(out, /the Git credential's identity reads its own folder only/);
  });

  it("fails when the Git token is also in the cluster's folder, where every admitted namespace could copy it", async () => {
    // The layout before the Git credential had a folder of its own: the token beside the applications'
    // secrets. The CA certificate there too is public and passes.
    useSecrets(VALUES, ESO_ONLY_APPS.grants, true, GIT_ONLY.grants, [
      { key: "FLUX_GIT_TOKEN", value: GIT_TOKEN },
      { key: "GIT_CA_CERT", value: GIT_CA },
    ]);
    const { code, out, err } = await runDoctor(ENV_OK);
    assert.equal(code, 1);
    assert.match(out, /^ {2}own folder {5}\/apps\/blue: listed \(3 secrets\)$/m);
    assert.equal(err.split("\n").length, 1, err);
    assert.match(
      err,
      /^castle doctor: the cluster's folder \/apps\/blue holds FLUX_GIT_TOKEN \(castle:gitops\.credentials\.token\), the fleet repository's credential .*Keep it in the Git credential's folder \/gitops\/blue alone: delete it from \/apps\/blue, and rotate it if it was read from there$/,
    );
    assert.doesNotMatch(out, /the cluster's identity reads its own folder only/);
  });

  it("all secrets ok: exit 0, a table of statuses and the request count", async () => {
    useSecrets(VALUES);
    const { code, out, err } = await runDoctor(ENV_OK);
    assert.equal(code, 0, err);
    assert.match(out, /^stack blue \(Pulumi\.blue\.yaml\): ok$/m);
    assert.match(out, /^TALOS_SECRETBOX_KEY\s+secretboxKey\s+ok$/m);
    assert.match(out, /^ESO_CLIENT_SECRET\s+esoClientSecret\s+ok$/m);
    assert.match(out, /^GITOPS_CLIENT_SECRET\s+gitopsClientSecret\s+ok$/m);
    assert.equal(out.match(/^[A-Z_]+ +[a-zA-Z]+ +ok$/gm)?.length, 7);
    assert.match(out, /^2 HTTP requests$/m);
    assert.match(out, /^all 7 secrets ok$/m);
    assert.equal(err, "");
    assert.match(out, /^ {2}own folder {5}\/apps\/blue: listed \(1 secret\)$/m);
    assert.match(out, /^ {2}castle folder {2}\/castle\/blue: refused \(HTTP 403\)$/m);
    assert.match(out, /^the cluster's identity reads its own folder only$/m);
    // The Git credential's wall: its identity reads its own folder only, the cluster's cannot read it.
    assert.match(out, /^ {2}own folder {5}\/gitops\/blue: listed \(2 secrets\)$/m);
    assert.match(
      out,
      /^ {2}castle folder {2}\/castle\/blue: refused \(HTTP 403\)\n {2}cluster folder \/apps\/blue: refused \(HTTP 403\)$/m,
    );
    assert.match(out, /^ {2}Git folder {5}\/gitops\/blue: refused \(HTTP 403\)$/m);
    assert.match(out, /^FLUX_GIT_TOKEN \(castle:gitops\.credentials\.token\): ok in \/gitops\/blue$/m);
    assert.match(out, /^GIT_CA_CERT \(castle:gitops\.credentials\.caCert\): ok in \/gitops\/blue$/m);
    assert.match(out, /^6 HTTP requests$/m);
    assert.match(
      out,
      /^the Git credential's identity reads its own folder only, and the cluster's identity cannot read it$/m,
    );
    assert.deepEqual(
      server.requests.map((r) => `${r.method} ${r.path} ${r.query.secretPath ?? ""}`.trim()),
      [
        "POST /api/v1/auth/universal-auth/login",
        `GET /api/v3/secrets/raw ${PATH}`,
        "POST /api/v1/auth/universal-auth/login",
        `GET /api/v3/secrets/raw ${APPS}`,
        `GET /api/v3/secrets/raw ${PATH}`,
        "POST /api/v1/auth/universal-auth/login",
        `GET /api/v3/secrets/raw ${GITOPS}`,
        `GET /api/v3/secrets/raw ${PATH}`,
        `GET /api/v3/secrets/raw ${APPS}`,
        "POST /api/v1/auth/universal-auth/login",
        `GET /api/v3/secrets/raw ${GITOPS}`,
      ],
    );
    // The castle's folder is listed as the cluster's identity without values; the Git identity reads its
    // own folder with values (as ESO does) and the others without; the cluster's identity the Git folder likewise.
    assert.deepEqual(
      server.requests.filter((r) => r.path === "/api/v3/secrets/raw").map((r) => r.query.viewSecretValue),
      ["true", "true", "false", "true", "false", "false", "false"],
    );
    // Before it, one look at /api/status: the site answers HTTP (reach.ts), unauthenticated.
    assert.deepEqual(server.statusProbes, [{ method: "GET", path: "/api/status", query: {}, authorized: false }]);
  });

  it("the cluster's identity can read the Git credential's folder: exit 1, naming the hole and the fix", async () => {
    useSecrets(VALUES, [{ projectId: PROJECT, environment: ENV, paths: [APPS, GITOPS] }]);
    const { code, out, err } = await runDoctor(ENV_OK);
    assert.equal(code, 1);
    assert.match(out, /^the cluster's identity reads its own folder only$/m, "its own wall against the castle holds");
    assert.match(out, /^ {2}Git folder {5}\/gitops\/blue: listed \(2 secrets, values hidden\)$/m);
    assert.match(
      err,
      /the cluster's identity \(ESO_CLIENT_ID\/ESO_CLIENT_SECRET\) can list the Git credential's folder \/gitops\/blue .*any namespace allowed to use the ClusterSecretStore could copy the fleet repository's credential/,
    );
    assert.doesNotMatch(out, /the Git credential's identity reads its own folder only/);
  });

  it("the Git credential's identity can read the cluster's or the castle's folder: exit 1 for each", async () => {
    useSecrets(VALUES, ESO_ONLY_APPS.grants, true, [{ projectId: PROJECT, environment: ENV, paths: ["/**"] }]);
    const { code, out, err } = await runDoctor(ENV_OK);
    assert.equal(code, 1);
    assert.match(out, /^ {2}cluster folder \/apps\/blue: listed \(1 secret, values hidden\)$/m);
    assert.match(
      err,
      /the Git credential's identity \(GITOPS_CLIENT_ID\/GITOPS_CLIENT_SECRET\) can list the castle's folder \/castle\/blue/,
    );
    assert.match(
      err,
      /the Git credential's identity \(GITOPS_CLIENT_ID\/GITOPS_CLIENT_SECRET\) can list the cluster's folder \/apps\/blue/,
    );
    const identityId = server.identityIdOf(VALUES.GITOPS_CLIENT_ID);
    assert.ok(
      err.includes(`give the Git credential's identity ${identityId} a role whose only secret permission`),
      err,
    );
  });

  it("the Git credential's identity can read another color's castle folder: exit 1, naming the color", async () => {
    // The green stack in the same project and environment: its castle folder is one more the Git identity must not read.
    const green = path.join(projectDir, "Pulumi.green.yaml");
    const greenFile = parseDocument(readFileSync(path.join(PROJECT_ROOT, "Pulumi.green.yaml"), "utf8"));
    greenFile.setIn(["config", "castle:infisical", "siteUrl"], server.siteUrl);
    writeFileSync(green, greenFile.toString());
    try {
      useSecrets(VALUES, ESO_ONLY_APPS.grants, true, [
        { projectId: PROJECT, environment: ENV, paths: [GITOPS, "/castle/green"] },
      ]);
      server.projects[PROJECT][ENV]["/castle/green"] = [
        { key: "PROXMOX_TOKEN_SECRET", value: VALUES.PROXMOX_TOKEN_SECRET },
      ];
      const { code, out, err } = await runDoctor(ENV_OK);
      assert.equal(code, 1);
      assert.match(out, /must not read \/castle\/blue, \/apps\/blue, \/castle\/green \(green\)$/m);
      assert.match(out, /^ {2}other castle {3}\/castle\/green: listed \(1 secret, values hidden\)$/m);
      assert.match(
        err,
        /the Git credential's identity \(GITOPS_CLIENT_ID\/GITOPS_CLIENT_SECRET\) can list the castle folder \/castle\/green of stack "green"/,
      );
    } finally {
      rmSync(green);
    }
  });

  it("the Git credential's identity cannot read its own folder: exit 1, saying the store would not be Ready", async () => {
    useSecrets(VALUES, ESO_ONLY_APPS.grants, true, [
      { projectId: PROJECT, environment: ENV, paths: ["/gitops/green"] },
    ]);
    const { code, out, err } = await runDoctor(ENV_OK);
    assert.equal(code, 1);
    assert.match(out, /^ {2}own folder {5}\/gitops\/blue: refused \(HTTP 403\)$/m);
    assert.match(
      err,
      /may not read its own folder \/gitops\/blue .*HTTP 403\): the SecretStore flux-git would not become Ready/,
    );
  });

  it("the Git credential's identity is the cluster's: refused before logging in as it", async () => {
    useSecrets({ ...VALUES, GITOPS_CLIENT_ID: VALUES.ESO_CLIENT_ID, GITOPS_CLIENT_SECRET: VALUES.ESO_CLIENT_SECRET });
    const { code, err } = await runDoctor(ENV_OK);
    assert.equal(code, 1);
    assert.match(err, /the Git credential's machine identity .* is the cluster's identity/);
    assert.equal(server.requests.length, 5, "no login as the Git credential's identity");
  });

  it("the cluster's identity can read the castle's folder: exit 1, naming the identity, the folder and the fix", async () => {
    useSecrets(VALUES, [{ projectId: PROJECT, environment: ENV, paths: ["/**"] }]);
    const { code, out, err } = await runDoctor(ENV_OK);
    assert.equal(code, 1);
    assert.match(out, /^ {2}castle folder {2}\/castle\/blue: listed \(7 secrets, values hidden\)$/m);
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
    assert.equal(out.match(/^[A-Z_]+ +[a-zA-Z]+ +ok$/gm)?.length, 6);
    assert.match(out, /^2 HTTP requests$/m);
    assert.match(out, /^1 of 7 secrets need attention/m);
  });

  it("bad credentials: exit 1, the login failure explained", async () => {
    useSecrets(VALUES);
    const { code, out, err } = await runDoctor({ ...ENV_OK, INFISICAL_CLIENT_SECRET: "SENTINEL-DOCTOR-wrong-secret" });
    assert.equal(code, 1);
    assert.equal(out.match(/^[A-Z_]+ +[a-zA-Z]+ +not checked$/gm)?.length, 7);
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
