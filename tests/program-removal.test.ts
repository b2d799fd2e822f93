/**
 * What `deletedWith` means for a change that removes one in-cluster object. Pulumi's engine skips the
 * provider's delete of a resource only when its `deletedWith` target is deleted in the same operation
 * (https://www.pulumi.com/docs/iac/concepts/resources/options/deletedwith/: "skip resource deletion if
 * another resource is being deleted as well"). So the castle's in-cluster objects must be deleted with a
 * resource that a change to them never removes: the Talos machine secrets. Removing an ExternalSecret from
 * the stack then leaves the target in the program, and the engine deletes the ExternalSecret through the
 * Kubernetes API; only destroying the cluster (which deletes the machine secrets) skips those deletes.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { type ProgramRun, runProgram } from "./support/program-run";

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
