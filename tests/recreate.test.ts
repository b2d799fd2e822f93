import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { type RecreateIo, recreate, recreateRefusal, type StackOperations, type StackStatus } from "../cli/recreate";

const projectDir = path.resolve(__dirname, "..");

describe("recreate: when one color must stay up", () => {
  const up = (stack: string, healthy = true): StackStatus => ({ stack, deployed: true, healthy });
  const down = (stack: string): StackStatus => ({ stack, deployed: false, healthy: false });
  const cases: { name: string; keep: boolean; statuses: StackStatus[]; refused: RegExp | undefined }[] = [
    { name: "no rule: always allowed", keep: false, statuses: [up("blue"), down("green")], refused: undefined },
    { name: "other color healthy", keep: true, statuses: [up("blue"), up("green")], refused: undefined },
    { name: "this color not deployed", keep: true, statuses: [down("blue"), down("green")], refused: undefined },
    {
      name: "other color not deployed",
      keep: true,
      statuses: [up("blue"), down("green")],
      refused: /would leave no healthy color \(green is not deployed\)/,
    },
    {
      name: "other color unhealthy",
      keep: true,
      statuses: [up("blue"), up("green", false)],
      refused: /green is deployed but not healthy/,
    },
    { name: "no other stack", keep: true, statuses: [up("blue")], refused: /there is no other stack/ },
    {
      name: "other color healthy at its last update, but its API does not answer now",
      keep: true,
      statuses: [up("blue"), { ...up("green"), notAnswering: "nothing listens on 10.20.1.10:6443" }],
      refused: /green is healthy at its last update, but its Kubernetes API does not answer now \(nothing listens/,
    },
  ];
  for (const { name, keep, statuses, refused } of cases) {
    it(name, () => {
      const refusal = recreateRefusal({ stack: "blue", keepOneColorUp: keep, statuses });
      if (refused === undefined) assert.equal(refusal, undefined);
      else assert.match(refusal ?? "", refused);
    });
  }
});

function fakeOps(statuses: StackStatus[], failing?: "destroy" | "up", answering: string[] = []) {
  const calls: string[] = [];
  const ops: StackOperations = {
    status: async (stack) => statuses.find((s) => s.stack === stack) ?? { stack, deployed: false, healthy: false },
    apiAnswers: async (endpoint) => {
      calls.push(`probe ${endpoint}`);
      return answering.includes(endpoint) ? undefined : `nothing listens on ${new URL(endpoint).host}`;
    },
    destroy: async (stack, log) => {
      calls.push(`destroy ${stack}`);
      log("Resources: 12 deleted");
      if (failing === "destroy") throw new Error("proxmox unreachable");
    },
    up: async (stack, log) => {
      calls.push(`up ${stack}`);
      log("Resources: 12 created");
      if (failing === "up") throw new Error("health check failed");
    },
  };
  return { ops, calls };
}

/** A pre-flight that passes (the real one is tested through the command line against stand-ins). */
const pass = async () => true;

function io(answer?: string) {
  const out: string[] = [];
  const err: string[] = [];
  let clock = 0;
  const value: RecreateIo = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    ask: answer === undefined ? undefined : async () => answer,
    now: () => (clock += 1500),
  };
  return { value, out, err };
}

describe("recreate: the run", () => {
  const both = [
    { stack: "blue", deployed: true, healthy: true },
    { stack: "green", deployed: true, healthy: true },
  ];

  it("destroys then creates after the stack name is typed, timing each phase", async () => {
    const { ops, calls } = fakeOps(both);
    const { value, out } = io("blue");
    assert.equal(await recreate(projectDir, "blue", { yes: false }, ops, value, pass), 0);
    assert.deepEqual(calls, ["destroy blue", "up blue"]);
    assert.equal(out.at(-1), 'recreated "blue": pre-flight 1.5 s, destroy 1.5 s, up 1.5 s');
  });

  it("changes nothing when the typed name is wrong", async () => {
    const { ops, calls } = fakeOps(both);
    const { value, err } = io("green");
    assert.equal(await recreate(projectDir, "blue", { yes: false }, ops, value, pass), 1);
    assert.deepEqual(calls, []);
    assert.match(err.join("\n"), /not confirmed .*nothing was changed/);
  });

  it("needs --yes when there is no terminal", async () => {
    const { ops, calls } = fakeOps(both);
    const { value, err } = io(undefined);
    assert.equal(await recreate(projectDir, "blue", { yes: false }, ops, value, pass), 1);
    assert.deepEqual(calls, []);
    assert.match(err.join("\n"), /pass --yes/);
    assert.equal(await recreate(projectDir, "blue", { yes: true }, ops, value, pass), 0);
    assert.deepEqual(calls, ["destroy blue", "up blue"]);
  });

  it("stops after a failed destroy and says what to do", async () => {
    const { ops, calls } = fakeOps(both, "destroy");
    const { value, err } = io();
    assert.equal(await recreate(projectDir, "blue", { yes: true }, ops, value, pass), 1);
    assert.deepEqual(calls, ["destroy blue"]);
    assert.match(err.join("\n"), /pulumi destroy of stack "blue" failed: proxmox unreachable\nNothing was created/);
  });

  it("refuses when the stack says one color must stay up and the other is down", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "castle-recreate-"));
    copyFileSync(path.join(projectDir, "Pulumi.green.yaml"), path.join(dir, "Pulumi.green.yaml"));
    const blue = readFileSync(path.join(projectDir, "Pulumi.blue.yaml"), "utf8");
    writeFileSync(path.join(dir, "Pulumi.blue.yaml"), `${blue}  castle:guards:\n    keepOneColorUp: true\n`);
    const { ops, calls } = fakeOps([
      { stack: "blue", deployed: true, healthy: true },
      { stack: "green", deployed: false, healthy: false },
    ]);
    const { value, err } = io("blue");
    assert.equal(await recreate(dir, "blue", { yes: true }, ops, value, pass), 1);
    assert.deepEqual(calls, []);
    assert.match(err.join("\n"), /refusing to recreate "blue": castle:guards\.keepOneColorUp is set/);
  });

  const keepOneUp = () => {
    const dir = mkdtempSync(path.join(tmpdir(), "castle-recreate-"));
    copyFileSync(path.join(projectDir, "Pulumi.green.yaml"), path.join(dir, "Pulumi.green.yaml"));
    const blue = readFileSync(path.join(projectDir, "Pulumi.blue.yaml"), "utf8");
    writeFileSync(path.join(dir, "Pulumi.blue.yaml"), `${blue}  castle:guards:\n    keepOneColorUp: true\n`);
    return dir;
  };
  const GREEN = "https://10.20.1.10:6443";

  it("with one color to keep up, goes ahead only when the other color's API answers now", async () => {
    const statuses = [
      { stack: "blue", deployed: true, healthy: true, endpoint: "https://10.20.0.10:6443" },
      { stack: "green", deployed: true, healthy: true, endpoint: GREEN },
    ];
    const answering = fakeOps(statuses, undefined, [GREEN]);
    assert.equal(await recreate(keepOneUp(), "blue", { yes: true }, answering.ops, io().value, pass), 0);
    assert.deepEqual(answering.calls, [`probe ${GREEN}`, "destroy blue", "up blue"]);

    const silent = fakeOps(statuses);
    const { value, err } = io();
    assert.equal(await recreate(keepOneUp(), "blue", { yes: true }, silent.ops, value, pass), 1);
    assert.deepEqual(silent.calls, [`probe ${GREEN}`]);
    assert.match(err.join("\n"), /green is healthy at its last update, but its Kubernetes API does not answer now/);
  });

  it("a healthy other color with no recorded endpoint cannot be checked: refused", async () => {
    const { ops, calls } = fakeOps([
      { stack: "blue", deployed: true, healthy: true },
      { stack: "green", deployed: true, healthy: true },
    ]);
    const { value, err } = io();
    assert.equal(await recreate(keepOneUp(), "blue", { yes: true }, ops, value, pass), 1);
    assert.deepEqual(calls, []);
    assert.match(err.join("\n"), /does not answer now \(no endpoint recorded\)/);
  });

  it("a status that cannot be read for one stack stops it: never read as 'not deployed'", async () => {
    const { ops, calls } = fakeOps([]);
    ops.status = async (stack) => {
      if (stack === "green") throw new Error('stack "green": the backend timed out');
      return { stack, deployed: true, healthy: true };
    };
    const { value, err } = io();
    assert.equal(await recreate(keepOneUp(), "blue", { yes: true }, ops, value, pass), 1);
    assert.deepEqual(calls, []);
    assert.match(
      err.join("\n"),
      /cannot read the stacks' status: stack "green": the backend timed out\. Nothing was destroyed/,
    );
  });
});

describe("recreate: castle verify after up", () => {
  const both = [
    { stack: "blue", deployed: true, healthy: true },
    { stack: "green", deployed: true, healthy: true },
  ];

  it("verifies the new castle after up and reports it as a phase", async () => {
    const { ops, calls } = fakeOps(both);
    const { value, out } = io();
    const verified: string[] = [];
    const verification = async (stack: string) => {
      verified.push(`${stack} after ${calls.join(", ")}`);
      return true;
    };
    assert.equal(await recreate(projectDir, "blue", { yes: true }, ops, value, pass, verification), 0);
    assert.deepEqual(verified, ["blue after destroy blue, up blue"]);
    assert.ok(out.includes("== castle verify blue"));
    assert.equal(out.at(-1), 'recreated "blue": pre-flight 1.5 s, destroy 1.5 s, up 1.5 s, verify 1.5 s');
  });

  it("a failed verify after a successful up exits 1 and says the castle is up", async () => {
    const { ops } = fakeOps(both);
    const { value, out, err } = io();
    assert.equal(await recreate(projectDir, "blue", { yes: true }, ops, value, pass, async () => false), 1);
    assert.ok(out.includes("== castle verify blue: stopped in 1.5 s"));
    assert.match(err.join("\n"), /the castle is up again, but castle verify failed \(see above\).*castle verify blue$/);
  });

  it("no verify when up failed", async () => {
    const { ops } = fakeOps(both, "up");
    const { value } = io();
    let asked = false;
    const verification = async () => {
      asked = true;
      return true;
    };
    assert.equal(await recreate(projectDir, "blue", { yes: true }, ops, value, pass, verification), 1);
    assert.equal(asked, false);
  });
});
