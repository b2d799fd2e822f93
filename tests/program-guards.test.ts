/**
 * The program's guard rails, run whole under the mock runtime: before any castle resource is
 * registered, the program checks the stack, its secrets and the identity ESO will use, then compares
 * the secretbox key and Talos contract with what runs. It reads what runs first (the control-plane VMs'
 * tags, listed cluster-wide through the Proxmox provider's `getVmsLegacy` and `getNodesLegacy`, faked in
 * tests/support/program-run.ts from the provider's source), and the stack's outputs second.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DIY_ORGANIZATION, GUARDED_OUTPUTS, selfReferenceName } from "../config/guards";
import { guardTags, PVE_TAG, readGuardTags } from "../lib/guard-tags";
import { secretboxKeyFingerprint } from "../lib/secretbox";
import { vmTags } from "../lib/vm-spec";
import { testSecretboxKey } from "./support/keys";
import {
  bridgedInvokeError,
  GET_NODES,
  GET_VMS,
  PROGRAM_CLIENT_ID,
  type ProgramRun,
  runProgram,
  sentinelSecrets,
} from "./support/program-run";

const blueKey = sentinelSecrets("blue").TALOS_SECRETBOX_KEY;
const otherKey = testSecretboxKey("other");
const BLUE_FP = secretboxKeyFingerprint(blueKey);
const OTHER_FP = secretboxKeyFingerprint(otherKey);
/** Pulumi.blue.yaml's control planes and workers: VM ID -> hostname. */
const BLUE_CP = { 2011: "blue-cp-1", 2012: "blue-cp-2", 2013: "blue-cp-3" } as const;
const BLUE_WK = { 2021: "blue-wk-1", 2022: "blue-wk-2" } as const;

/** The blue castle's VMs as Proxmox would list them, control planes marked with `fingerprint`/`contract`. */
function blueVms(marks: { fingerprint: string; contract: string } | undefined, controlPlaneNode?: string) {
  const vms: Record<number, { name: string; tags: string[]; node?: string }> = {};
  for (const [id, name] of Object.entries(BLUE_CP)) {
    vms[Number(id)] = {
      name,
      tags: vmTags("blue", "controlPlane", marks ? guardTags(marks) : []),
      ...(controlPlaneNode ? { node: controlPlaneNode } : {}),
    };
  }
  for (const [id, name] of Object.entries(BLUE_WK)) vms[Number(id)] = { name, tags: vmTags("blue", "worker") };
  return vms;
}

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
    "a castle resource was registered",
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

  it("refuses the Git credential's identity when it is the cluster's or the program's, whatever the guards allow", async () => {
    for (const gitopsClientId of [sentinelSecrets("blue").ESO_CLIENT_ID, PROGRAM_CLIENT_ID]) {
      const run = await runProgram("blue", {
        values: { ...sentinelSecrets("blue"), GITOPS_CLIENT_ID: gitopsClientId },
        edit: (raw) => {
          raw.guards = { allowSharedInfisicalIdentity: true };
        },
      });
      assert.equal(run.error?.name, "CastleGuardError");
      assert.match(
        run.error?.message ?? "",
        /the Git credential's machine identity .* is (the cluster's identity|the identity this program logs in with)/,
      );
      touchedNothing(run);
      assertNoSentinel(run);
    }
  });

  it("a stack without Git credentials reads no Git credential identity", async () => {
    const { GITOPS_CLIENT_ID: _id, GITOPS_CLIENT_SECRET: _secret, ...rest } = sentinelSecrets("blue");
    const run = await runProgram("blue", {
      values: rest,
      edit: (raw) => {
        const gitops = raw.gitops as Record<string, unknown>;
        delete gitops.credentials;
        delete gitops.secretsPath;
      },
    });
    assert.equal(run.error, undefined);
    assert.equal(run.harness.ofType("kubernetes:external-secrets.io/v1:SecretStore").length, 0);
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

  it("stops before any resource on a weak secretbox key (32 zero bytes), telling how to make one", async () => {
    const zero = Buffer.alloc(32, 0).toString("base64");
    const run = await runProgram("blue", { values: { ...sentinelSecrets("blue"), TALOS_SECRETBOX_KEY: zero } });
    assert.equal(run.error?.name, "InfisicalError");
    assert.match(
      run.error?.message ?? "",
      /TALOS_SECRETBOX_KEY \(castle:infisical\.secretNames\.secretboxKey\): is one byte repeated 32 times/,
    );
    assert.match(run.error?.message ?? "", /openssl rand -base64 32/);
    assert.ok(!(run.error?.message ?? "").includes(zero));
    assert.deepEqual(run.harness.resources, []);
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

describe("the running castle's marks", () => {
  it("are valid Proxmox tags and read back to the same values", () => {
    const tags = guardTags({ fingerprint: BLUE_FP, contract: "v1.13" });
    for (const tag of tags) assert.match(tag, PVE_TAG);
    assert.deepEqual(tags, [...tags].sort());
    assert.deepEqual(readGuardTags(["castle", "blue", ...tags]), { fingerprint: BLUE_FP, contract: "v1.13" });
    assert.deepEqual(readGuardTags(["castle", "blue", "control-plane"]), {});
  });

  it("refuse values that would not survive as tags", () => {
    assert.throws(() => guardTags({ fingerprint: "sha256:XYZ", contract: "v1.13" }), /not sha256:<16 hex digits>/);
    assert.throws(() => guardTags({ fingerprint: BLUE_FP, contract: "1.13 beta" }), /not v<major>\.<minor>/);
  });

  it("are set on the control-plane VMs only", async () => {
    const run = await runProgram("blue");
    assert.equal(run.error, undefined, run.error?.message);
    const vms = run.harness.ofType("proxmoxve:index/vmLegacy:VmLegacy");
    const marks = guardTags({ fingerprint: BLUE_FP, contract: "v1.13" });
    for (const vm of vms) {
      const tags = vm.inputs.tags as string[];
      const isControlPlane = tags.includes("control-plane");
      for (const mark of marks) assert.equal(tags.includes(mark), isControlPlane, `${vm.name}: ${tags.join(";")}`);
      assert.deepEqual(tags, [...tags].sort(), "sorted, as Proxmox stores them");
    }
  });
});

describe("the guard reads Proxmox before anything is registered", () => {
  it("lists the VMs and nodes of the whole Proxmox cluster once, through the castle's provider, first", async () => {
    const run = await runProgram("blue");
    const reads = run.harness.invokes.filter((i) => i.token === GET_VMS || i.token === GET_NODES);
    assert.deepEqual(reads.map((r) => r.token).sort(), [GET_NODES, GET_VMS]);
    // No node argument: every node of the cluster is listed (vms.go `getNodeNames`).
    assert.deepEqual(reads.find((r) => r.token === GET_VMS)?.inputs, {});
    const firstCastleResource = run.harness.resources.find(
      (r) => r.type !== "pulumi:pulumi:StackReference" && r.type !== "pulumi:providers:proxmoxve",
    );
    for (const read of reads) assert.ok(read.seq < (firstCastleResource?.seq ?? 0), "read after a registration");
  });

  it("a fresh stack whose VM IDs are free on every online node goes ahead", async () => {
    const run = await runProgram("blue", { proxmoxVms: { 4000: { name: "nas", tags: [] } } });
    assert.equal(run.error, undefined, run.error?.message);
    assert.equal(run.harness.ofType("proxmoxve:index/vmLegacy:VmLegacy").length, 5);
  });

  it("control planes moved to another Proxmox node, built with another key, no outputs: refused", async () => {
    const run = await runProgram("blue", {
      proxmoxVms: blueVms({ fingerprint: OTHER_FP, contract: "v1.13" }, "pve4"),
      proxmoxNodes: { pve1: true, pve2: true, pve3: true, pve4: true },
    });
    assert.equal(run.error?.name, "CastleGuardError", run.error?.message);
    assert.match(
      run.error?.message ?? "",
      new RegExp(`blue-cp-1 \\(VM 2011 on pve4, not pve1 as the stack file says\\), .* carry fingerprint ${OTHER_FP}`),
    );
    touchedNothing(run);
  });

  it("a node that is not online while a VM ID is unseen: cannot tell, fatal before anything is registered", async () => {
    const run = await runProgram("blue", { proxmoxNodes: { pve1: true, pve2: true, pve3: false } });
    assert.equal(run.error?.name, "ProxmoxReadError", run.error?.message);
    assert.match(run.error?.message ?? "", /Proxmox node pve3 is not online/);
    assert.match(run.error?.message ?? "", /VM 2011 \(castle:controlPlanes\[0\]\.vmId\)/);
    assert.match(run.error?.message ?? "", /Nothing was changed/);
    touchedNothing(run);
  });

  it("a node that is not online does not matter when every VM ID was found", async () => {
    const run = await runProgram("blue", {
      proxmoxVms: blueVms({ fingerprint: BLUE_FP, contract: "v1.13" }),
      proxmoxNodes: { pve1: true, pve2: true, pve3: true, pve9: false },
    });
    assert.equal(run.error, undefined, run.error?.message);
  });

  it("the engine's empty answer (provider not configured) is no answer: fatal", async () => {
    const run = await runProgram("blue", { proxmoxUnconfigured: true });
    assert.equal(run.error?.name, "ProxmoxReadError");
    assert.match(run.error?.message ?? "", /answered without reading anything/);
    touchedNothing(run);
  });

  it("no outputs, but running control planes built with another key: refused, pointing to recreate", async () => {
    const run = await runProgram("blue", { proxmoxVms: blueVms({ fingerprint: OTHER_FP, contract: "v1.13" }) });
    assert.equal(run.error?.name, "CastleGuardError", run.error?.message);
    const message = run.error?.message ?? "";
    assert.match(message, new RegExp(`the secretbox key in Infisical \\(fingerprint ${BLUE_FP}\\) is not the key`));
    assert.match(
      message,
      new RegExp(
        `blue-cp-1 \\(VM 2011 on pve1\\), blue-cp-2 \\(VM 2012 on pve2\\), blue-cp-3 \\(VM 2013 on pve3\\) carry fingerprint ${OTHER_FP}`,
      ),
    );
    assert.match(message, /npx castle recreate blue/);
    touchedNothing(run);
    for (const sentinel of run.sentinels) assert.ok(!message.includes(sentinel), "a secret value was printed");
  });

  it("no outputs, running control planes on another Talos contract: refused", async () => {
    const run = await runProgram("blue", { proxmoxVms: blueVms({ fingerprint: BLUE_FP, contract: "v1.12" }) });
    assert.equal(run.error?.name, "CastleGuardError");
    assert.match(
      run.error?.message ?? "",
      /Talos version contract changed from v1\.12 to v1\.13 \(castle:talos\.contract\)/,
    );
    touchedNothing(run);
  });

  it("the same key and contract on the running castle goes ahead", async () => {
    const run = await runProgram("blue", { proxmoxVms: blueVms({ fingerprint: BLUE_FP, contract: "v1.13" }) });
    assert.equal(run.error, undefined, run.error?.message);
    assert.equal(run.harness.ofType("proxmoxve:index/vmLegacy:VmLegacy").length, 5);
  });

  it("a VM that is not this castle's on one of its VM IDs is refused, naming the key to change", async () => {
    const run = await runProgram("blue", { proxmoxVms: { 2021: { name: "gitlab-runner", tags: ["ci"] } } });
    assert.equal(run.error?.name, "CastleGuardError");
    assert.match(
      run.error?.message ?? "",
      /VM 2021 on Proxmox node pve1 \(castle:workers\[0\]\.vmId\) exists and is not castle blue's: it is named "gitlab-runner" with tags \[ci\]/,
    );
    touchedNothing(run);
  });

  it("the other color's VM on one of its VM IDs is not this castle's either", async () => {
    const run = await runProgram("blue", {
      proxmoxVms: { 2011: { name: "green-cp-1", tags: vmTags("green", "controlPlane") } },
    });
    assert.equal(run.error?.name, "CastleGuardError");
    assert.match(
      run.error?.message ?? "",
      /VM 2011 on Proxmox node pve1 \(castle:controlPlanes\[0\]\.vmId\) exists and is not castle blue's/,
    );
  });

  it("unmarked control planes (built before the marks) with no outputs: refused, saying how to vouch", async () => {
    const run = await runProgram("blue", { proxmoxVms: blueVms(undefined) });
    assert.equal(run.error?.name, "CastleGuardError");
    assert.match(
      run.error?.message ?? "",
      /without a key fingerprint tag, and stack "blue" has no recorded fingerprint/,
    );
    assert.match(run.error?.message ?? "", new RegExp(`add the tag castle-key-${BLUE_FP.replace(":", "-")}`));
  });

  it("unmarked control planes whose outputs vouch for the key go ahead (the up then marks them)", async () => {
    const run = await runProgram("blue", {
      proxmoxVms: blueVms(undefined),
      previousOutputs: { [GUARDED_OUTPUTS.fingerprint]: BLUE_FP, [GUARDED_OUTPUTS.contract]: "v1.13" },
    });
    assert.equal(run.error, undefined, run.error?.message);
  });

  it("the outputs stay the second line: unmarked VMs, outputs with another key, refused", async () => {
    const run = await runProgram("blue", {
      proxmoxVms: blueVms(undefined),
      previousOutputs: { [GUARDED_OUTPUTS.fingerprint]: OTHER_FP, [GUARDED_OUTPUTS.contract]: "v1.13" },
    });
    assert.equal(run.error?.name, "CastleGuardError");
    assert.match(run.error?.message ?? "", /is not the key stack "blue"'s running cluster was created with/);
    touchedNothing(run);
  });

  it("a failed VM list is fatal, before anything is registered, with the provider's text", async () => {
    // bpg v0.111.1 proxmoxtf/datasource/vms.go `getNodeNames`: "error listing nodes: %w"; proxmox/nodes/nodes.go
    // `ListNodes`: "failed to get nodes: %w"; proxmox/api/client.go: "received an HTTP %d response - Reason: %s"
    // (PVE's reason text for a bad token is assumed).
    const run = await runProgram("blue", {
      proxmoxError:
        "error listing nodes: failed to get nodes: received an HTTP 401 response - Reason: authentication failure",
    });
    assert.equal(run.error?.name, "ProxmoxReadError");
    assert.match(
      run.error?.message ?? "",
      /could not tell which of the stack's VM IDs exist on the Proxmox cluster at https:\/\/pve\.home\.arpa:8006\//,
    );
    assert.match(run.error?.message ?? "", /HTTP 401 response - Reason: authentication failure/);
    touchedNothing(run);
    for (const sentinel of run.sentinels) assert.ok(!(run.error?.message ?? "").includes(sentinel));
  });

  it("one node's failed list fails the whole read (vms.go keeps going, then reports the error)", async () => {
    const run = await runProgram("blue", {
      proxmoxError: "error retrieving VMs: received an HTTP 500 response - Reason: Internal Server Error",
    });
    assert.equal(run.error?.name, "ProxmoxReadError");
    assert.match(run.error?.message ?? "", /error retrieving VMs: received an HTTP 500/);
  });
});

describe("the guard's helpers", () => {
  it("the fake's error reaches the program as the engine words it", () => {
    const error = bridgedInvokeError(GET_VMS, ["a"]);
    assert.equal(
      error.message,
      `invocation of ${GET_VMS} returned an error: invoking ${GET_VMS}: 1 error occurred:\n\t* a\n\n`,
    );
    assert.match(bridgedInvokeError(GET_VMS, ["a", "b"]).message, /2 errors occurred:\n\t\* a\n\t\* b\n\n$/);
  });

  it("name the stack bare on a DIY backend, fully on Pulumi Cloud", () => {
    assert.equal(selfReferenceName(DIY_ORGANIZATION, "castle", "blue"), "blue");
    assert.equal(selfReferenceName("acme", "castle", "blue"), "acme/castle/blue");
  });
});
