/** The stack keys that bound how long `pulumi up` waits: defaults and refusals. */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { CastleConfigError, parseCastleConfig, readStackFile } from "../config/load";
import { DEFAULT_ESO_READY_TIMEOUT_SECONDS, DEFAULT_TALOS_HEALTH_TIMEOUT_SECONDS } from "../config/schema";

// biome-ignore lint/suspicious/noExplicitAny: the tests edit raw stack files freely to build bad cases.
type RawStack = Record<string, any>;

const projectDir = path.resolve(__dirname, "..");
const blue = () => structuredClone(readStackFile(projectDir, "blue")) as RawStack;

function problemsOf(raw: RawStack): string[] {
  try {
    parseCastleConfig("blue", "Pulumi.blue.yaml", raw);
    return [];
  } catch (error) {
    assert.ok(error instanceof CastleConfigError, String(error));
    return error.problems.map((p) => `${p.key}: ${p.message}`);
  }
}

describe("wait bounds in the stack configuration", () => {
  it("defaults to 600 s for the health check and 300 s for ESO's objects", () => {
    const config = parseCastleConfig("blue", "Pulumi.blue.yaml", blue());
    assert.equal(DEFAULT_TALOS_HEALTH_TIMEOUT_SECONDS, 600);
    assert.equal(DEFAULT_ESO_READY_TIMEOUT_SECONDS, 300);
    assert.equal(config.talos.healthTimeoutSeconds, 600);
    assert.equal(config.eso.readyTimeoutSeconds, 300);
  });

  it("takes the stack's values", () => {
    const raw = blue();
    raw.talos.healthTimeoutSeconds = 900;
    raw.eso.readyTimeoutSeconds = 120;
    const config = parseCastleConfig("blue", "Pulumi.blue.yaml", raw);
    assert.equal(config.talos.healthTimeoutSeconds, 900);
    assert.equal(config.eso.readyTimeoutSeconds, 120);
  });

  const cases: { name: string; mutate: (raw: RawStack) => void; expected: RegExp }[] = [
    {
      name: "a health timeout under a minute",
      mutate: (r) => (r.talos.healthTimeoutSeconds = 10),
      expected: /^castle:talos\.healthTimeoutSeconds: 10: must be a whole number of seconds, from 60 to 3600$/,
    },
    {
      name: "a ready timeout with a fraction",
      mutate: (r) => (r.eso.readyTimeoutSeconds = 90.5),
      expected: /^castle:eso\.readyTimeoutSeconds: 90\.5: must be a whole number of seconds, from 30 to 3600$/,
    },
    {
      name: "a ready timeout over an hour",
      mutate: (r) => (r.eso.readyTimeoutSeconds = 7200),
      expected: /^castle:eso\.readyTimeoutSeconds: 7200: must be a whole number of seconds, from 30 to 3600$/,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}, naming the key`, () => {
      const raw = blue();
      c.mutate(raw);
      const problems = problemsOf(raw);
      assert.equal(problems.length, 1, problems.join("\n"));
      assert.match(problems[0], c.expected);
    });
  }
});
