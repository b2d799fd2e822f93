import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { listStacks } from "../config/load";

const ROOT = path.resolve(__dirname, "..");
const dir = path.join(ROOT, ".github/workflows");
const files = readdirSync(dir).filter((f) => f.endsWith(".yml"));

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  id?: string;
}
interface Job {
  "runs-on": unknown;
  if?: string;
  needs?: string | string[];
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  strategy?: { matrix: Record<string, unknown> };
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}
const load = (file: string) => parse(readFileSync(path.join(dir, file), "utf8")) as Workflow;
const text = (file: string) => readFileSync(path.join(dir, file), "utf8");
const steps = (file: string) => Object.values(load(file).jobs).flatMap((job) => job.steps);

/** The stack list a workflow's `stacks` job prints, run here with node as the runner would. */
function listedStacks(file: string): string[] {
  const list = load(file).jobs.stacks.steps.find((s) => s.id === "list");
  assert.ok(list?.run, `${file}: a stacks job with a list step`);
  const script = /node -e '([\s\S]*?)'\)/.exec(list.run)?.[1];
  assert.ok(script, "the list step runs a node script");
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" }));
}

describe("GitHub workflows", () => {
  it("are the three the runbook describes", () => {
    assert.deepEqual(files.sort(), ["preview.yml", "render.yml", "test.yml"]);
  });

  for (const file of files) {
    it(`${file} is valid YAML with jobs, steps and least permissions`, () => {
      const workflow = load(file);
      assert.equal(typeof workflow.name, "string");
      assert.ok(workflow.on && typeof workflow.on === "object");
      assert.deepEqual(workflow.permissions, { contents: "read" });
      for (const job of Object.values(workflow.jobs)) {
        assert.ok(job["runs-on"]);
        assert.ok(job.steps.length > 0);
        for (const step of job.steps) assert.ok(step.uses || step.run, JSON.stringify(step));
      }
    });

    it(`${file} pins every action by full commit SHA, with its release in a comment`, () => {
      const lines = text(file)
        .split("\n")
        .filter((line) => /^\s*-?\s*uses:/.test(line));
      assert.ok(lines.length > 0);
      for (const line of lines) {
        assert.match(line, /uses: [\w-]+\/[\w-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/, line);
      }
    });

    it(`${file} checks out without keeping the token in the repository`, () => {
      const checkouts = steps(file).filter((s) => s.uses?.startsWith("actions/checkout@"));
      assert.ok(checkouts.length > 0);
      for (const checkout of checkouts) assert.equal(checkout.with?.["persist-credentials"], false);
    });

    it(`${file} runs Node 22`, () => {
      for (const setup of steps(file).filter((s) => s.uses?.startsWith("actions/setup-node@"))) {
        assert.equal(setup.with?.["node-version"], 22);
      }
    });
  }

  it("the same action is pinned to the same commit everywhere", () => {
    const pins = new Map<string, Set<string>>();
    for (const file of files) {
      for (const use of steps(file).flatMap((s) => (s.uses ? [s.uses] : []))) {
        const [action, sha] = use.split("@");
        pins.set(action, (pins.get(action) ?? new Set()).add(sha));
      }
    }
    for (const [action, shas] of pins) assert.equal(shas.size, 1, `${action}: ${[...shas].join(", ")}`);
  });

  it("tests run the README's test command", () => {
    const runs = load("test.yml").jobs.test.steps.map((s) => s.run);
    assert.deepEqual(runs.filter(Boolean), ["npm ci", "npm test"]);
  });

  it("render needs no secret, so it works for forks, and renders every stack file", () => {
    assert.ok(!text("render.yml").includes("secrets."));
    const render = load("render.yml").jobs.render;
    assert.equal(render.needs, "stacks");
    assert.equal(render.strategy?.matrix.stack, "${{ fromJSON(needs.stacks.outputs.stacks) }}");
    assert.equal(render.env?.STACK, "${{ matrix.stack }}");
    const runs = render.steps.map((s) => s.run ?? "");
    assert.ok(runs.includes('npx castle check "$STACK"'));
    assert.ok(runs.includes('npx castle render "$STACK" --out "rendered/$STACK"'));
  });

  for (const file of ["render.yml", "preview.yml"]) {
    it(`${file} derives its stacks from the Pulumi.<stack>.yaml files, so a new color needs no edit`, () => {
      assert.deepEqual(listedStacks(file), listStacks(ROOT));
      assert.ok(listStacks(ROOT).includes("blue") && listStacks(ROOT).includes("green"));
      // No stack is named in the workflow itself, and a matrix value never reaches a script unquoted.
      assert.doesNotMatch(text(file), /\b(blue|green)\b/);
      for (const step of steps(file)) assert.ok(!(step.run ?? "").includes("${{ matrix"), step.run);
    });
  }

  describe("preview", () => {
    const job = load("preview.yml").jobs.preview;

    it("runs only for this repository's branches, after the stack list", () => {
      const stacks = load("preview.yml").jobs.stacks;
      assert.equal(
        stacks.if,
        "github.event.pull_request.head.repo.full_name == github.repository && github.actor != 'dependabot[bot]'",
      );
      assert.equal(job.needs, "stacks");
      assert.equal(job.strategy?.matrix.stack, "${{ fromJSON(needs.stacks.outputs.stacks) }}");
    });

    it("runs in a GitHub environment (required reviewers) on an ephemeral self-hosted runner", () => {
      assert.equal(job.environment, "preview");
      assert.deepEqual(job["runs-on"], ["self-hosted", "castle", "ephemeral"]);
    });

    it("may request an OIDC token, and nothing more than it needs", () => {
      assert.deepEqual(job.permissions, { contents: "read", "pull-requests": "write", "id-token": "write" });
    });

    it("holds no Infisical client id or secret: it exchanges the OIDC token for an access token", () => {
      const all = text("preview.yml");
      assert.doesNotMatch(all, /INFISICAL_CLIENT_(ID|SECRET)/);
      assert.doesNotMatch(all, /secrets\.INFISICAL/);
      const exchange = job.steps.find((s) => (s.run ?? "").includes("/api/v1/auth/oidc-auth/login"));
      assert.ok(exchange, "an OIDC exchange step");
      // tests/preview-oidc.test.ts runs this step against fakes of GitHub and Infisical.
      assert.match(exchange.run ?? "", /ACTIONS_ID_TOKEN_REQUEST_URL/);
      assert.match(exchange.run ?? "", /identityId: env\.IDENTITY_ID, jwt/);
      assert.match(exchange.run ?? "", /::add-mask::\$\{reply\.accessToken\}/);
      assert.match(exchange.run ?? "", /appendFileSync\(env\.GITHUB_ENV, `INFISICAL_TOKEN=/);
      assert.equal(exchange.env?.IDENTITY_ID, "${{ vars.INFISICAL_PREVIEW_IDENTITY_ID }}");
      const pulumi = job.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
      assert.ok(job.steps.indexOf(exchange) < pulumi, "the token exists before the preview");
      const install = job.steps.findIndex((s) => s.run?.startsWith("npm ci"));
      assert.ok(install < job.steps.indexOf(exchange), "dependencies are installed before the token exists");
      assert.equal(job.steps[install].run, "npm ci --ignore-scripts");
    });

    it("takes the Infisical site and the Proxmox endpoint from CI, and refuses to run without them", () => {
      assert.equal(job.env?.INFISICAL_SITE_URL, "${{ vars.INFISICAL_SITE_URL }}");
      assert.equal(job.env?.PROXMOX_VE_ENDPOINT, "${{ vars.PROXMOX_VE_ENDPOINT }}");
      const guard = job.steps[0].run ?? "";
      assert.match(guard, /test -n "\$INFISICAL_SITE_URL"/);
      assert.match(guard, /test -n "\$PROXMOX_VE_ENDPOINT"/);
    });

    it("previews each stack and comments on the pull request", () => {
      const pulumi = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
      assert.equal(pulumi?.with?.command, "preview");
      assert.equal(pulumi?.with?.["comment-on-pr"], true);
      assert.equal(pulumi?.with?.["stack-name"], "${{ matrix.stack }}");
      assert.match(String(pulumi?.with?.["pulumi-version"]), /^\d+\.\d+\.\d+$/);
      const dependencies = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).dependencies;
      assert.equal(pulumi?.with?.["pulumi-version"], dependencies["@pulumi/pulumi"], "the CLI of the SDK's release");
    });
  });
});
