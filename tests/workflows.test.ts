import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";

const dir = path.resolve(__dirname, "../.github/workflows");
const files = readdirSync(dir).filter((f) => f.endsWith(".yml"));

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, { "runs-on": unknown; if?: string; steps: Step[] }>;
}
const load = (file: string) => parse(readFileSync(path.join(dir, file), "utf8")) as Workflow;

describe("GitHub workflows", () => {
  it("are the three the runbook describes", () => {
    assert.deepEqual(files.sort(), ["preview.yml", "render.yml", "test.yml"]);
  });

  for (const file of files) {
    it(`${file} is valid YAML with jobs, steps and least permissions`, () => {
      const workflow = load(file);
      assert.equal(typeof workflow.name, "string");
      assert.ok(workflow.on && typeof workflow.on === "object");
      assert.equal(workflow.permissions.contents, "read");
      for (const job of Object.values(workflow.jobs)) {
        assert.ok(job["runs-on"]);
        assert.ok(job.steps.length > 0);
        for (const step of job.steps) assert.ok(step.uses || step.run, JSON.stringify(step));
      }
    });

    it(`${file} pins every action to an exact version`, () => {
      const uses = Object.values(load(file).jobs).flatMap((job) => job.steps.flatMap((s) => (s.uses ? [s.uses] : [])));
      for (const use of uses) assert.match(use, /^[\w-]+\/[\w-]+@v\d+\.\d+\.\d+$/);
    });
  }

  it("tests run the README's test command", () => {
    const runs = load("test.yml").jobs.test.steps.map((s) => s.run);
    assert.deepEqual(runs.filter(Boolean), ["npm ci", "npm test"]);
  });

  it("render needs no secret, so it works for forks, and uploads both colors", () => {
    const text = readFileSync(path.join(dir, "render.yml"), "utf8");
    assert.ok(!text.includes("secrets."));
    const runs = load("render.yml").jobs.render.steps.map((s) => s.run ?? "");
    assert.ok(runs.includes("npx castle render blue --out rendered/blue"));
    assert.ok(runs.includes("npx castle render green --out rendered/green"));
  });

  it("preview runs per stack only where secrets exist and comments on the pull request", () => {
    const job = load("preview.yml").jobs.preview;
    assert.equal(job.if, "github.event.pull_request.head.repo.full_name == github.repository");
    const pulumi = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
    assert.equal(pulumi?.with?.command, "preview");
    assert.equal(pulumi?.with?.["comment-on-pr"], true);
    assert.equal(pulumi?.with?.["stack-name"], "${{ matrix.stack }}");
    assert.equal(pulumi?.env?.INFISICAL_CLIENT_SECRET, "${{ secrets.INFISICAL_CLIENT_SECRET }}");
  });
});
