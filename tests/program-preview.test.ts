/**
 * The whole program run as `pulumi preview` runs it (the mock runtime in dry-run mode): no Talos health
 * check, and a Kubernetes provider whose kubeconfig is known, so a pull-request preview diffs the
 * Kubernetes objects of a running cluster instead of showing them all as replaced.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { placeholder } from "../offline/offline-provider";
import { type ProgramRun, runProgram } from "./support/program-run";
import { unwrapSecrets } from "./support/pulumi-mocks";

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
