import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parseDocument } from "yaml";
import { main } from "../cli/castle";
import { InfisicalStandIn, type StandInSecret } from "../offline/infisical-stand-in";

const PROJECT_ROOT = path.join(__dirname, "..");
/** The blue stack's Infisical coordinates (Pulumi.blue.yaml). */
const PROJECT = "4f6c2a8e-7b1d-4c3e-9a5f-2d8b6e1c0a97";
const ENV = "prod";
const PATH = "/castle/blue";

const CLIENT_ID = "castle-doctor-identity";
const CLIENT_SECRET = "SENTINEL-DOCTOR-CLIENT-SECRET-5e7a";
const VALUES: Record<string, string> = {
  TALOS_SECRETBOX_KEY: Buffer.from("doctor-sentinel-secretbox-key-32").toString("base64"),
  PROXMOX_TOKEN_ID: "sentinel-doctor@pve!doctortoken",
  PROXMOX_TOKEN_SECRET: "SENTINEL-DOCTOR-PVE-SECRET-81c2",
  ESO_CLIENT_ID: "SENTINEL-DOCTOR-ESO-ID-4410",
  ESO_CLIENT_SECRET: "SENTINEL-DOCTOR-ESO-SECRET-d93f",
};
const SENTINELS = [...Object.values(VALUES), CLIENT_SECRET];

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

function useSecrets(values: Record<string, string>): void {
  const secrets: StandInSecret[] = Object.entries(values).map(([key, value]) => ({ key, value }));
  server.projects = { [PROJECT]: { [ENV]: { [PATH]: secrets } } };
  server.requests.length = 0;
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
    assert.deepEqual(
      server.requests.map((r) => `${r.method} ${r.path}`),
      ["POST /api/v1/auth/universal-auth/login", "GET /api/v3/secrets/raw"],
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
