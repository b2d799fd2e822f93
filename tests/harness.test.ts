import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import {
  isSecretMarked,
  plaintextOccurrences,
  settle,
  startMocks,
  unwrapSecrets,
  withoutSourceMaps,
} from "./support/pulumi-mocks";

const harness = startMocks({ invokes: { "test:index:echo": (inputs) => ({ out: inputs.in }) } });

class Thing extends pulumi.CustomResource {
  constructor(name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super("test:index:Thing", name, props, opts);
  }
}

class Parent extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("castle:test:Parent", name, {}, opts);
    const first = new Thing(`${name}-first`, { value: pulumi.secret("s3cret") }, { parent: this });
    new Thing(`${name}-second`, { plain: "visible" }, { parent: this, dependsOn: [first] });
    this.registerOutputs({});
  }
}

describe("mock harness", () => {
  before(async () => {
    new Parent("p");
    await settle();
  });

  it("records type, name, parent and explicit dependencies", () => {
    const first = harness.get("test:index:Thing", "p-first");
    const second = harness.get("test:index:Thing", "p-second");
    assert.equal(first.parent, "castle:test:Parent::p");
    assert.equal(harness.get("castle:test:Parent", "p").custom, false);
    assert.ok(harness.dependsOn(second, first));
    assert.ok(!harness.dependsOn(first, second));
  });

  it("keeps secret markers on inputs", () => {
    const first = harness.get("test:index:Thing", "p-first");
    assert.ok(isSecretMarked(first.inputs.value));
    assert.deepEqual(unwrapSecrets(first.inputs), { value: "s3cret" });
    assert.deepEqual(plaintextOccurrences(first.inputs, "s3cret"), []);
    assert.deepEqual(plaintextOccurrences(harness.get("test:index:Thing", "p-second").inputs, "visible"), ["$.plain"]);
  });

  it("throws on an invoke the test did not declare", async () => {
    await assert.rejects(pulumi.runtime.invoke("test:index:unknown", {}));
    assert.deepEqual(harness.unexpectedInvokes, ["test:index:unknown"]);
    const echoed = await pulumi.runtime.invoke("test:index:echo", { in: 1 });
    assert.equal(echoed.out, 1);
  });
});

describe("withoutSourceMaps", () => {
  /** `file:line` of the first frame of a stack. */
  const where = (error: Error) =>
    /\((.+):(\d+):\d+\)/
      .exec(error.stack?.split("\n")[1] ?? "")
      ?.slice(1, 3)
      .join(":");

  it("turns source maps off for the run and back on after, even when the run fails", async () => {
    assert.equal(process.sourceMapsEnabled, true, "the tests run with source maps on");
    assert.equal(await withoutSourceMaps(async () => process.sourceMapsEnabled), false);
    assert.equal(process.sourceMapsEnabled, true);
    await assert.rejects(
      withoutSourceMaps(async () => Promise.reject(new Error("the run failed"))),
      /the run failed/,
    );
    assert.equal(process.sourceMapsEnabled, true);
  });

  it("an error made during the run is mapped to its TypeScript line when read after", async () => {
    const [inside, outside] = [await withoutSourceMaps(async () => new Error("inside")), new Error("outside")];
    assert.match(where(outside) ?? "", /harness\.test\.ts:\d+$/);
    assert.equal(where(inside), where(outside));
  });
});
