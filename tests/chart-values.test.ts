import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { esoHelmValues } from "../lib/eso-manifests";
import { fluxOperatorHelmValues } from "../lib/flux-manifests";
import {
  chartValueProblems,
  ESO_CHART_VALUES,
  FLUX_OPERATOR_CHART_VALUES,
  valueAt,
  valuePaths,
} from "./support/chart-values-facts";

describe("chart values the castle sets", () => {
  it("ESO: every key is one the 2.9.0 chart reads, of the chart's kind", () => {
    assert.deepEqual(chartValueProblems(esoHelmValues(), ESO_CHART_VALUES), []);
  });

  it("ESO: the CRDs carry Helm's keep policy, through the chart's crds.annotations", () => {
    assert.deepEqual(valueAt(esoHelmValues(), "crds.annotations"), { "helm.sh/resource-policy": "keep" });
    assert.deepEqual(ESO_CHART_VALUES.defaults["crds.annotations"], {}, "the chart keeps nothing by default");
  });

  it("ESO: the stores the castle creates are served (ClusterSecretStore and SecretStore)", () => {
    const values = esoHelmValues();
    for (const path of [
      "crds.createClusterSecretStore",
      "crds.createSecretStore",
      "processClusterStore",
      "processSecretStore",
    ]) {
      assert.equal(valueAt(values, path), true, path);
    }
  });

  it("Flux Operator: every key is one the chart reads, of the chart's kind", () => {
    assert.deepEqual(chartValueProblems(fluxOperatorHelmValues(), FLUX_OPERATOR_CHART_VALUES), []);
  });

  it("Flux Operator: what differs from the chart's defaults is decided (no web UI)", () => {
    const values = fluxOperatorHelmValues();
    const changed = valuePaths(values).filter(
      (path) => JSON.stringify(valueAt(values, path)) !== JSON.stringify(FLUX_OPERATOR_CHART_VALUES.defaults[path]),
    );
    assert.deepEqual(changed, ["web.enabled"]);
  });

  it("the check fails on a key the chart does not read, and on a value of another kind", () => {
    assert.deepEqual(chartValueProblems({ web: { enable: false }, installCRDs: "yes" }, FLUX_OPERATOR_CHART_VALUES), [
      `web.enable: not a value of the chart (${FLUX_OPERATOR_CHART_VALUES.source})`,
      "installCRDs: string, the chart's default is a boolean",
    ]);
    assert.deepEqual(chartValueProblems({ crd: { annotations: {} } }, ESO_CHART_VALUES), [
      `crd.annotations: not a value of the chart (${ESO_CHART_VALUES.source})`,
    ]);
  });
});
