/**
 * The whole castle program, run under the mock runtime: each stack as `pulumi up` runs it, the blue
 * stack as `pulumi preview` runs it, and a change that removes objects from a stack.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { placeholder } from "../offline/offline-provider";
import { wholeProgramTests } from "./support/program-checks";
import { type ProgramRun, runProgram } from "./support/program-run";
import { unwrapSecrets } from "./support/pulumi-mocks";

for (const stack of ["blue", "green"]) {
  describe(`the whole castle program, stack ${stack}`, () => wholeProgramTests(stack));
}

/*
 * The whole program run as `pulumi preview` runs it (the mock runtime in dry-run mode): no Talos health
 * check, and a Kubernetes provider whose kubeconfig is known, so a pull-request preview diffs the
 * Kubernetes objects of a running cluster instead of showing them all as replaced.
 */
const HEALTH = "talos:cluster/getHealth:getHealth";
const APPLY = "talos:machine/configurationApply:ConfigurationApply";
const K8S_PROVIDER = "pulumi:providers:kubernetes";
/** What the offline model answers for the Kubeconfig resource (a running cluster's, from state). */
const KUBECONFIG = placeholder("admin kubeconfig");

describe("the whole castle program as a preview", () => {
  let run: ProgramRun;

  before(async () => {
    run = await runProgram("blue", {
      preview: true,
      // The engine gives a resource that is being created no ID in a preview. Before, an invoke depending on
      // it (the health check) was skipped and its result unknown, and so was the kubeconfig gated on it.
      ids: { [APPLY]: (args) => (args.name === "talos-blue-wk-2" ? "" : `${args.name}-id`) },
    });
  });

  it("runs the blue program in dry-run mode, one config apply without an ID yet (a node being added)", () => {
    assert.equal(run.error, undefined);
    assert.equal(pulumi.runtime.isDryRun(), true);
    assert.deepEqual(run.harness.unexpectedInvokes, []);
  });

  it("makes no health-check invoke", () => {
    assert.deepEqual(
      run.harness.invokes.filter((i) => i.token === HEALTH),
      [],
    );
    // The other invokes still ran (the check is not vacuous: invokes are recorded in this mode).
    assert.ok(run.harness.invokes.some((i) => i.token === "talos:machine/getConfiguration:getConfiguration"));
  });

  it("gives the Kubernetes provider a known kubeconfig: the Kubeconfig resource's, not gated on health", () => {
    const providers = run.harness.ofType(K8S_PROVIDER);
    assert.equal(providers.length, 1);
    assert.equal(unwrapSecrets(providers[0].inputs.kubeconfig), KUBECONFIG);
  });

  it("still registers every in-cluster object on that provider", () => {
    const provider = run.harness.ofType(K8S_PROVIDER)[0];
    const inCluster = run.harness.resources.filter((r) => r.provider?.startsWith(`${provider.urn}::`));
    assert.deepEqual([...new Set(inCluster.map((r) => r.type))].sort(), [
      "kubernetes:core/v1:Namespace",
      "kubernetes:core/v1:Secret",
      "kubernetes:external-secrets.io/v1:ClusterSecretStore",
      "kubernetes:external-secrets.io/v1:ExternalSecret",
      "kubernetes:fluxcd.controlplane.io/v1:FluxInstance",
      "kubernetes:helm.sh/v3:Release",
    ]);
  });

  it("reports the cluster's health as unknown, not as true", async () => {
    const healthy = run.outputs.clusterHealthy as pulumi.Output<boolean>;
    assert.ok(pulumi.Output.isInstance(healthy));
    // `isKnown` is the SDK's own (untyped) flag of an Output.
    assert.equal(await (healthy as unknown as { isKnown: Promise<boolean> }).isKnown, false);
  });
});

describe("the whole castle program as a preview of an unchanged cluster", () => {
  let run: ProgramRun;

  before(async () => {
    run = await runProgram("green", { preview: true });
  });

  it("runs the green program in dry-run mode, every resource with its ID", () => {
    assert.equal(run.error, undefined);
    assert.deepEqual(run.harness.unexpectedInvokes, []);
  });

  it("makes no health-check invoke, although nothing would stop one (it would check the live nodes)", () => {
    assert.deepEqual(
      run.harness.invokes.filter((i) => i.token === HEALTH),
      [],
    );
    assert.equal(unwrapSecrets(run.harness.ofType(K8S_PROVIDER)[0].inputs.kubeconfig), KUBECONFIG);
  });
});

/*
 * What `deletedWith` means for a change that removes one in-cluster object. Pulumi's engine skips the
 * provider's delete of a resource only when its `deletedWith` target is deleted in the same operation
 * (https://www.pulumi.com/docs/iac/concepts/resources/options/deletedwith/: "skip resource deletion if
 * another resource is being deleted as well"). So the castle's in-cluster objects must be deleted with a
 * resource that a change to them never removes: the Talos machine secrets. Removing an ExternalSecret from
 * the stack then leaves the target in the program, and the engine deletes the ExternalSecret through the
 * Kubernetes API; only destroying the cluster (which deletes the machine secrets) skips those deletes.
 */
const ES = "kubernetes:external-secrets.io/v1:ExternalSecret";
const NS = "kubernetes:core/v1:Namespace";
const SECRETS = "talos:machine/secrets:Secrets";

describe("removing an ExternalSecret and its namespace from a stack", () => {
  let earlier: ProgramRun;
  let later: ProgramRun;

  before(async () => {
    earlier = await runProgram("blue");
    later = await runProgram("blue", {
      edit: (raw) => {
        const eso = raw.eso as { allowedNamespaces: string[]; externalSecrets: unknown[] };
        eso.externalSecrets = [];
        eso.allowedNamespaces = eso.allowedNamespaces.filter((ns) => ns !== "monitoring");
      },
    });
  });

  it("runs the blue program as it is, then without its ExternalSecret and the monitoring namespace", () => {
    assert.equal(earlier.error, undefined);
    assert.equal(later.error, undefined);
  });

  it("drops exactly those objects from the program", () => {
    const removed = (run: ProgramRun) =>
      run.harness.resources.filter(
        (r) => (r.type === ES && r.name.startsWith("infisical-")) || r.name.endsWith("-namespace-monitoring"),
      );
    assert.deepEqual(
      removed(earlier).map((r) => `${r.type}::${r.name}`),
      [`${NS}::infisical-namespace-monitoring`, `${ES}::infisical-monitoring/grafana-admin`],
    );
    assert.deepEqual(removed(later), []);
  });

  it("keeps their deletedWith target in the program, so the engine deletes them through the API", () => {
    const removed = earlier.harness.resources.filter(
      (r) => (r.type === ES && r.name.startsWith("infisical-")) || r.name === "infisical-namespace-monitoring",
    );
    const target = earlier.harness.ofType(SECRETS)[0];
    for (const r of removed) assert.equal(r.deletedWith, target.urn, r.name);
    // The target is still declared after the change (same URN): it is not deleted, so neither delete is skipped.
    assert.deepEqual(
      later.harness.ofType(SECRETS).map((r) => r.urn),
      [target.urn],
    );
  });
});
