import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GUARDED_OUTPUTS } from "../config/guards";
import { secretboxKeyFingerprint } from "../lib/secretbox";
import { PROGRAM_CLIENT_ID, type ProgramRun, runProgram, sentinelSecrets } from "./support/program-run";

const blueKey = sentinelSecrets("blue").TALOS_SECRETBOX_KEY;
const otherKey = Buffer.alloc(32, 7).toString("base64");

/**
 * Nothing but what the guard reads through was registered: the StackReference to the stack's outputs
 * and the Proxmox provider of its VM reads (neither changes anything).
 */
function touchedNothing(run: ProgramRun): void {
  assert.deepEqual(
    run.harness.resources
      .map((r) => r.type)
      .filter((t) => t !== "pulumi:pulumi:StackReference" && t !== "pulumi:providers:proxmoxve"),
    [],
  );
}

function assertNoSentinel(run: ProgramRun): void {
  const text = `${run.error?.message}\n${run.error?.stack}\n${run.logs.join("\n")}`;
  for (const sentinel of run.sentinels) assert.ok(!text.includes(sentinel), "a secret value was printed");
}

describe("the program's guard rails", () => {
  it("lets the first up through: no previous outputs, no cluster to protect", async () => {
    const run = await runProgram("blue");
    assert.equal(run.error, undefined);
    assert.equal(run.harness.ofType("proxmoxve:index/vmLegacy:VmLegacy").length, 5);
  });

  it("lets an unchanged key and contract through", async () => {
    const run = await runProgram("blue", {
      previousOutputs: {
        [GUARDED_OUTPUTS.fingerprint]: secretboxKeyFingerprint(blueKey),
        [GUARDED_OUTPUTS.contract]: "v1.13",
      },
    });
    assert.equal(run.error, undefined);
    assert.equal(run.harness.ofType("talos:machine/configurationApply:ConfigurationApply").length, 5);
  });

  it("stops before touching anything when the key in Infisical changed", async () => {
    const run = await runProgram("blue", {
      values: { ...sentinelSecrets("blue"), TALOS_SECRETBOX_KEY: otherKey },
      previousOutputs: {
        [GUARDED_OUTPUTS.fingerprint]: secretboxKeyFingerprint(blueKey),
        [GUARDED_OUTPUTS.contract]: "v1.13",
      },
    });
    assert.equal(run.error?.name, "CastleGuardError");
    assert.match(
      run.error?.message ?? "",
      /secretbox key in Infisical .* is not the key stack "blue"'s running cluster/,
    );
    assert.match(run.error?.message ?? "", /npx castle recreate blue/);
    touchedNothing(run);
    assertNoSentinel(run);
    assert.ok(!(run.error?.message ?? "").includes(otherKey));
  });

  it("stops before touching anything when the Talos contract changed", async () => {
    const run = await runProgram("blue", {
      previousOutputs: {
        [GUARDED_OUTPUTS.fingerprint]: secretboxKeyFingerprint(blueKey),
        [GUARDED_OUTPUTS.contract]: "v1.12",
      },
    });
    assert.equal(run.error?.name, "CastleGuardError");
    assert.match(run.error?.message ?? "", /Talos version contract changed from v1\.12 to v1\.13/);
    touchedNothing(run);
  });

  it("refuses ESO running with the program's own identity", async () => {
    const run = await runProgram("green", {
      values: { ...sentinelSecrets("green"), ESO_CLIENT_ID: PROGRAM_CLIENT_ID },
    });
    assert.equal(run.error?.name, "CastleGuardError");
    assert.match(run.error?.message ?? "", /ESO machine identity .* is the same identity this program logs in with/);
    touchedNothing(run);
    assertNoSentinel(run);
  });

  it("accepts the shared identity when the stack explicitly allows it", async () => {
    const run = await runProgram("green", {
      values: { ...sentinelSecrets("green"), ESO_CLIENT_ID: PROGRAM_CLIENT_ID },
      edit: (raw) => {
        raw.guards = { allowSharedInfisicalIdentity: true };
      },
    });
    assert.equal(run.error, undefined);
  });

  it("stops before any resource when a secret is missing from Infisical, naming it", async () => {
    const { TALOS_SECRETBOX_KEY: _, ...rest } = sentinelSecrets("blue");
    const run = await runProgram("blue", { values: rest });
    assert.equal(run.error?.name, "InfisicalError");
    assert.match(run.error?.message ?? "", /TALOS_SECRETBOX_KEY/);
    assert.deepEqual(run.harness.resources, []);
    assertNoSentinel(run);
  });

  it("stops before any resource on a bad stack config", async () => {
    const run = await runProgram("blue", {
      edit: (raw) => {
        (raw.network as { vip: string }).vip = "10.20.0.11";
      },
    });
    assert.equal(run.error?.name, "CastleConfigError");
    assert.match(run.error?.message ?? "", /castle:controlPlanes\[0\]\.ip: 10\.20\.0\.11 is also the VIP/);
    assert.deepEqual(run.harness.resources, []);
  });

  it("warns on every run when Proxmox TLS verification is off", async () => {
    const run = await runProgram("blue", {
      edit: (raw) => {
        (raw.proxmox as Record<string, unknown>).insecureSkipTlsVerify = true;
      },
    });
    assert.equal(run.error, undefined);
    assert.ok(
      run.logs.some((l) => /TLS verification of the Proxmox API .* is OFF/.test(l)),
      run.logs.join("\n"),
    );
    const provider = run.harness.ofType("pulumi:providers:proxmoxve")[0];
    assert.equal(provider.inputs.insecure, "true");
  });
});
