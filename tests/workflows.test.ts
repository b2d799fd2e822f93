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
  "timeout-minutes"?: number;
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

  it("tests run the README's test command, after the lockfile's hosts are checked", () => {
    const runs = load("test.yml").jobs.test.steps.map((s) => s.run);
    assert.deepEqual(runs.filter(Boolean), ["node .ci/lockfile-hosts.mjs", "npm ci", "npm test"]);
  });

  it("every job of every workflow has timeout-minutes, 30 at most", () => {
    for (const file of files) {
      for (const [name, job] of Object.entries(load(file).jobs)) {
        const minutes = job["timeout-minutes"];
        assert.ok(typeof minutes === "number" && minutes > 0 && minutes <= 30, `${file} ${name}: ${minutes}`);
      }
    }
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

  it("render.yml derives its stacks from the Pulumi.<stack>.yaml files, so a new color needs no edit", () => {
    assert.deepEqual(listedStacks("render.yml"), listStacks(ROOT));
    assert.ok(listStacks(ROOT).includes("blue") && listStacks(ROOT).includes("green"));
  });

  for (const file of ["render.yml", "preview.yml"]) {
    it(`${file} names no stack, and a matrix value never reaches a script unquoted`, () => {
      assert.doesNotMatch(text(file), /\b(blue|green)\b/);
      for (const step of steps(file)) assert.ok(!(step.run ?? "").includes("${{"), step.run);
    });
  }

  describe("preview", () => {
    const workflow = load("preview.yml");
    const { changes, approval } = workflow.jobs;
    const previews = {
      "preview-config": workflow.jobs["preview-config"],
      "preview-code": workflow.jobs["preview-code"],
    };
    const runIndex = (job: Job, prefix: string) => job.steps.findIndex((s) => (s.run ?? "").startsWith(prefix));

    it("runs the default branch's copy of itself (pull_request_target), never the pull request's", () => {
      assert.deepEqual(Object.keys(workflow.on), ["pull_request_target"]);
      assert.deepEqual(Object.keys(workflow.jobs).sort(), ["approval", "changes", "preview-code", "preview-config"]);
    });

    it("tells config from code with the base branch's script and no secret", () => {
      assert.deepEqual(changes.permissions, { contents: "read", "pull-requests": "read" });
      assert.equal(changes["runs-on"], "ubuntu-latest");
      for (const step of changes.steps) assert.equal(step.with?.ref, undefined, "checks out the base only");
      const classify = changes.steps.find((s) => s.id === "classify");
      assert.equal(classify?.run, "node .ci/pr-changes.mjs");
      assert.equal(classify?.env?.HEAD_SHA, "${{ github.event.pull_request.head.sha }}");
      assert.equal(changes.outputs?.kind, "${{ steps.classify.outputs.kind }}");
      assert.ok(!JSON.stringify(changes).includes("secrets."));
    });

    it("proves the approval of code is enforced before code is previewed, and fails closed", () => {
      assert.equal(approval.if, "needs.changes.outputs.kind == 'code'");
      assert.deepEqual(approval.permissions, { contents: "read", actions: "read" });
      const verify = approval.steps.find((s) => s.run === "node .ci/verify-approval.mjs");
      assert.equal(verify?.env?.ENVIRONMENT, "preview-code");
      const code = previews["preview-code"];
      assert.deepEqual(code.needs, ["changes", "approval"]);
      assert.equal(code.if, "needs.changes.outputs.kind == 'code' && needs.approval.result == 'success'");
      assert.equal(code.environment, "preview-code");
    });

    it("previews config-only pull requests with the base branch's code and the pull request's stack files as data", () => {
      const config = previews["preview-config"];
      assert.equal(config.needs, "changes");
      assert.equal(config.if, "needs.changes.outputs.kind == 'config'");
      assert.equal(config.environment, "preview");
      for (const step of config.steps) assert.equal(step.with?.ref, undefined, "no checkout of the pull request");
      const data = config.steps.findIndex((s) => s.run === "node .ci/pr-changes.mjs");
      assert.equal(config.steps[data].env?.EXPECT_KIND, "config");
      assert.ok(data < runIndex(config, "npx castle check"), "the stack files are checked after they are copied");
    });

    it("checks the lockfile's hosts with the base branch's script before installing the pull request's code", () => {
      const code = previews["preview-code"];
      const checkouts = code.steps.filter((s) => s.uses?.startsWith("actions/checkout@"));
      assert.deepEqual(
        checkouts.map((s) => [s.with?.path, s.with?.ref]),
        [
          ["trusted", undefined],
          ["pr", "${{ github.event.pull_request.head.sha }}"],
        ],
      );
      const lockfile = runIndex(code, "node trusted/.ci/lockfile-hosts.mjs pr");
      assert.ok(lockfile >= 0 && lockfile < runIndex(code, "npm ci"));
      const pulumi = code.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
      assert.equal(pulumi?.with?.["work-dir"], "pr");
    });

    for (const [name, job] of Object.entries(previews)) {
      describe(name, () => {
        it("runs on an ephemeral self-hosted runner with an OIDC token and nothing more than it needs", () => {
          assert.deepEqual(job["runs-on"], ["self-hosted", "castle", "ephemeral"]);
          assert.deepEqual(job.permissions, { contents: "read", "pull-requests": "write", "id-token": "write" });
          assert.equal(job.strategy?.matrix.stack, "${{ fromJSON(needs.changes.outputs.stacks) }}");
        });

        it("is strict in CI: hosts from the environment, TLS verified, the preview identity's own folder", () => {
          assert.equal(job.env?.CASTLE_CI, "true");
          assert.equal(job.env?.INFISICAL_SITE_URL, "${{ vars.INFISICAL_SITE_URL }}");
          assert.equal(job.env?.PROXMOX_VE_ENDPOINT, "${{ vars.PROXMOX_VE_ENDPOINT }}");
          assert.equal(job.env?.INFISICAL_SECRET_PATH, "${{ vars.INFISICAL_PREVIEW_PATH }}/${{ matrix.stack }}");
          const guard = job.steps[0].run ?? "";
          assert.match(guard, /test -n "\$INFISICAL_SITE_URL"/);
          assert.match(guard, /test -n "\$PROXMOX_VE_ENDPOINT"/);
          assert.doesNotMatch(text("preview.yml"), /NODE_TLS_REJECT_UNAUTHORIZED|insecure/i);
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
          const install = runIndex(job, "npm ci");
          assert.ok(install < job.steps.indexOf(exchange), "dependencies are installed before the token exists");
          assert.equal(job.steps[install].run, "npm ci --ignore-scripts");
          assert.ok(runIndex(job, "npx castle check") < job.steps.indexOf(exchange), "checked before the token");
        });

        it("previews each stack and comments on the pull request", () => {
          const pulumi = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
          assert.equal(pulumi?.with?.command, "preview");
          assert.equal(pulumi?.with?.["comment-on-pr"], true);
          assert.equal(pulumi?.with?.["stack-name"], "${{ matrix.stack }}");
          const dependencies = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).dependencies;
          assert.equal(
            pulumi?.with?.["pulumi-version"],
            dependencies["@pulumi/pulumi"],
            "the CLI of the SDK's release",
          );
        });
      });
    }

    it("both previews run the same OIDC exchange", () => {
      const exchanges = Object.values(previews).map(
        (job) => job.steps.find((s) => (s.run ?? "").includes("oidc-auth/login"))?.run,
      );
      assert.equal(exchanges[0], exchanges[1]);
    });
  });
});
