/**
 * The program never reads, holds or writes the Git credentials: ESO brings them from Infisical with the
 * cluster's identity. The Infisical stand-in serves a Git token (and SSH keys) that the program's own
 * identity could read; the program must not ask for them, and none may reach any resource input (not
 * even as a secret), any output or any log line. Only their key names appear, in the ExternalSecret.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readStackFile } from "../config/load";
import { unwrapSecrets } from "../offline/mock-runtime";
import { PROJECT_DIR, type ProgramRun, runProgram, sentinelSecrets } from "./support/program-run";
import { resolved } from "./support/pulumi-mocks";

const GIT_TOKEN = "SENTINEL-GIT-TOKEN-glpat-7f3c9a";
const SSH_IDENTITY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nSENTINEL-SSH-IDENTITY-1d2e\n-----END OPENSSH PRIVATE KEY-----";
const SSH_KNOWN_HOSTS = "git.home.arpa ssh-ed25519 SENTINEL-KNOWN-HOSTS-AAAAC3";
const GIT_SECRETS = {
  FLUX_GIT_TOKEN: GIT_TOKEN,
  FLUX_SSH_IDENTITY: SSH_IDENTITY,
  FLUX_SSH_KNOWN_HOSTS: SSH_KNOWN_HOSTS,
};
const EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret";

/** Everything the run produced that leaves the program: inputs (secrets unwrapped), outputs (all), logs. */
async function everythingWritten(run: ProgramRun): Promise<string> {
  const outputs = await Promise.all(Object.values(run.outputs).map((value) => resolved(value as never)));
  return JSON.stringify([run.harness.resources.map((r) => unwrapSecrets(r.inputs)), outputs, run.logs]);
}

function assertNoGitCredential(text: string): void {
  for (const value of [GIT_TOKEN, "SENTINEL-SSH-IDENTITY-1d2e", "SENTINEL-KNOWN-HOSTS-AAAAC3"]) {
    assert.ok(!text.includes(value), `a Git credential (${value.slice(0, 20)}...) reached a resource, output or log`);
  }
}

for (const stack of ["blue", "green"]) {
  describe(`Git credentials, stack ${stack}`, () => {
    const infisical = readStackFile(PROJECT_DIR, stack).infisical as { secretPath: string };
    const keyNames = Object.values(
      (readStackFile(PROJECT_DIR, stack).gitops as { credentials: Record<string, string> }).credentials,
    );

    it("in a folder of their own (the cluster's): not even requested", async () => {
      const clusterFolder = `${infisical.secretPath}/cluster`;
      const run = await runProgram(stack, { otherFolder: { secretPath: clusterFolder, secrets: GIT_SECRETS } });
      assert.equal(run.error, undefined);
      // The stand-in serves them, and the program's identity may read that folder: the program chose not to.
      assert.deepEqual(
        run.standIn.requests.map((r) => `${r.method} ${r.path} ${r.query.secretPath ?? ""} ${r.query.recursive ?? ""}`),
        ["POST /api/v1/auth/universal-auth/login  ", `GET /api/v3/secrets/raw ${infisical.secretPath} false`],
      );
      assertNoGitCredential(await everythingWritten(run));
      const pullSecret = run.harness.get(EXTERNAL_SECRET, "gitops-pull-secret");
      const text = JSON.stringify(unwrapSecrets(pullSecret.inputs));
      for (const name of keyNames) assert.ok(text.includes(`"key":"${name}"`), `the ExternalSecret names ${name}`);
    });

    it("even in the program's own folder, listed with it: no resource, output or log holds them", async () => {
      const run = await runProgram(stack, { values: { ...sentinelSecrets(stack), ...GIT_SECRETS } });
      assert.equal(run.error, undefined);
      assert.equal(run.standIn.requests.length, 2, "login and one list, nothing asked for the Git keys");
      assertNoGitCredential(await everythingWritten(run));
      // The check above sees the other secrets, unwrapped, where they belong: it is not vacuous.
      assert.ok((await everythingWritten(run)).includes(sentinelSecrets(stack).ESO_CLIENT_SECRET));
    });
  });
}
