/**
 * The deployment benchmark's model over the real program, in its quick mode: one run per topology on the
 * virtual clock (no wall-clock wait, nothing timed). A component or invoke the model has no step for
 * stops `npm run bench`; here it fails a test instead, so it cannot break the benchmark unnoticed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ESSENTIAL_CHAIN, lowerBoundSeconds, STEPS, stepOf } from "../bench/model";
import { simulateOnce } from "../bench/simulate";
import { topologyNamed } from "../bench/topologies";

describe("the deployment benchmark's model over the real program", () => {
  for (const name of ["1+0", "3+2"]) {
    it(`${name}: every step is modelled, and the schedule follows the essential chain`, async () => {
      const run = await simulateOnce(topologyNamed(name), { kind: "virtual" });
      assert.ok(run.resources > 0 && run.invokes > 0);
      // No schedule beats the chain of steps that must follow one another; the castle's meets it.
      assert.ok(run.modelledSeconds >= lowerBoundSeconds(), `${run.modelledSeconds} < ${lowerBoundSeconds()}`);
      assert.deepEqual(
        run.criticalPath.map((step) => step.label),
        ESSENTIAL_CHAIN.map((token) => stepOf(token).label).filter((_, i) => stepOf(ESSENTIAL_CHAIN[i]).seconds > 0),
      );
    });
  }

  it("gives every step a reason", () => {
    for (const step of STEPS) assert.ok(step.why.length > 20, `${step.token}: ${step.why}`);
  });
});
