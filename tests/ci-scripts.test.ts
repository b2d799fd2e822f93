/**
 * The scripts the workflows run (.ci/), run as the runner runs them (node, the environment GitHub sets)
 * against a local stand-in of GitHub's REST API, and the CI rules of the program (config/overrides.ts).
 * The stand-in answers the three routes the scripts call, with the fields GitHub documents: the pull
 * request's files ({filename, status}), a file's contents at a commit (base64 `content`), and an
 * environment ({name, protection_rules, can_admins_bypass}).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { loadStackFile } from "../config/load";
import { ciProblems, withHostOverrides } from "../config/overrides";

const ROOT = path.resolve(__dirname, "..");
const REPO = "castle-org/castle";
const HEAD = "0123456789abcdef0123456789abcdef01234567";
const TOKEN = "SENTINEL-GITHUB-TOKEN-7c1d";

interface GitHubState {
  files: { filename: string; status: string }[];
  contents: Record<string, string>;
  environment?: unknown;
  environmentStatus?: number;
}
let state: GitHubState = { files: [], contents: {} };
let github: Server;
let apiUrl = "";
const dirs: string[] = [];

before(async () => {
  github = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://github");
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(401, { message: "Bad credentials" });
    if (url.pathname === `/repos/${REPO}/pulls/7/files`) {
      const page = Number(url.searchParams.get("page") ?? "1");
      const perPage = Number(url.searchParams.get("per_page") ?? "30");
      return json(200, state.files.slice((page - 1) * perPage, page * perPage));
    }
    const contents = new RegExp(`^/repos/${REPO}/contents/(.+)$`).exec(url.pathname);
    if (contents && url.searchParams.get("ref") === HEAD) {
      const text = state.contents[decodeURIComponent(contents[1])];
      if (text === undefined) return json(404, { message: "Not Found" });
      return json(200, { type: "file", encoding: "base64", content: Buffer.from(text).toString("base64") });
    }
    if (url.pathname === `/repos/${REPO}/environments/preview-code`) {
      return json(
        state.environmentStatus ?? (state.environment ? 200 : 404),
        state.environment ?? { message: "Not Found" },
      );
    }
    json(404, { message: "Not Found" });
  });
  await new Promise<void>((resolve) => github.listen(0, "127.0.0.1", () => resolve()));
  apiUrl = `http://127.0.0.1:${(github.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => github.close(() => resolve()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A base checkout: the project's stack files in a fresh folder (the scripts import from the project). */
function baseCheckout(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "castle-ci-base-"));
  dirs.push(dir);
  for (const file of ["Pulumi.blue.yaml", "Pulumi.green.yaml"])
    copyFileSync(path.join(ROOT, file), path.join(dir, file));
  return dir;
}

function run(script: string, cwd: string, env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, ".ci", script), ...(env.ARG ? [env.ARG] : [])],
      {
        cwd,
        env: { PATH: process.env.PATH, GITHUB_API_URL: apiUrl, GITHUB_REPOSITORY: REPO, GITHUB_TOKEN: TOKEN, ...env },
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function changes(files: GitHubState["files"], contents: Record<string, string> = {}, expect?: string) {
  state = { files, contents };
  const dir = baseCheckout();
  const output = path.join(dir, "github-output");
  writeFileSync(output, "");
  const result = await run("pr-changes.mjs", dir, {
    PR_NUMBER: "7",
    HEAD_SHA: HEAD,
    GITHUB_OUTPUT: output,
    ...(expect ? { EXPECT_KIND: expect } : {}),
  });
  const outputs = Object.fromEntries(
    readFileSync(output, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split(/=(.*)/s).slice(0, 2)),
  );
  return { ...result, outputs, dir };
}

const BLUE = readFileSync(path.join(ROOT, "Pulumi.blue.yaml"), "utf8");

describe(".ci/pr-changes.mjs: config or code", () => {
  it("a pull request that changes only a stack's config is config: its stack file is copied in as data", async () => {
    const edited = BLUE.replace("interval: 1m", "interval: 5m");
    const result = await changes([{ filename: "Pulumi.blue.yaml", status: "modified" }], {
      "Pulumi.blue.yaml": edited,
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual(result.outputs, { kind: "config", stacks: '["blue"]' });
    assert.equal(readFileSync(path.join(result.dir, "Pulumi.blue.yaml"), "utf8"), edited);
  });

  const codeRows: [string, GitHubState["files"], Record<string, string>, RegExp][] = [
    [
      "the lockfile",
      [{ filename: "package-lock.json", status: "modified" }],
      {},
      /package-lock\.json is not a stack file/,
    ],
    [
      "code and a stack file",
      [
        { filename: "Pulumi.blue.yaml", status: "modified" },
        { filename: "index.ts", status: "modified" },
      ],
      { "Pulumi.blue.yaml": BLUE },
      /index\.ts is not a stack file/,
    ],
    [
      "the project file Pulumi.yaml",
      [{ filename: "Pulumi.yaml", status: "modified" }],
      {},
      /Pulumi\.yaml is not a stack file/,
    ],
    ["a workflow", [{ filename: ".github/workflows/preview.yml", status: "modified" }], {}, /not a stack file/],
    [
      "a removed stack file",
      [{ filename: "Pulumi.green.yaml", status: "removed" }],
      {},
      /Pulumi\.green\.yaml is removed/,
    ],
    [
      "a stack file that changes its secrets provider",
      [{ filename: "Pulumi.blue.yaml", status: "modified" }],
      { "Pulumi.blue.yaml": `secretsprovider: awskms://alias/elsewhere\n${BLUE}` },
      /changes secretsprovider/,
    ],
    [
      "a stack file with a setting that is not data",
      [{ filename: "Pulumi.blue.yaml", status: "modified" }],
      { "Pulumi.blue.yaml": `environment: [imported]\n${BLUE}` },
      /sets environment, which is not stack data/,
    ],
    [
      "a stack file named outside the plain form",
      [{ filename: "Pulumi.Blue Green.yaml", status: "added" }],
      {},
      /not a stack file/,
    ],
  ];
  for (const [what, files, contents, why] of codeRows) {
    it(`${what} is code: every stack is previewed, after the approval`, async () => {
      const result = await changes(files, contents);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.deepEqual(result.outputs, { kind: "code", stacks: '["blue","green"]' });
      assert.match(result.stdout, why);
      assert.equal(readFileSync(path.join(result.dir, "Pulumi.blue.yaml"), "utf8"), BLUE, "nothing copied in");
    });
  }

  it("the preview of config stops when the pull request turns out to be code (EXPECT_KIND)", async () => {
    const result = await changes([{ filename: "package-lock.json", status: "modified" }], {}, "config");
    assert.equal(result.code, 1);
    assert.match(result.stdout, /::error::expected a config pull request, found code/);
  });

  it("fails when GitHub's API refuses (no token): nothing is decided", async () => {
    state = { files: [], contents: {} };
    const dir = baseCheckout();
    const result = await run("pr-changes.mjs", dir, {
      PR_NUMBER: "7",
      HEAD_SHA: HEAD,
      GITHUB_OUTPUT: "/dev/null",
      GITHUB_TOKEN: "wrong",
    });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /::error::GitHub API \/repos\/castle-org\/castle\/pulls\/7\/files: HTTP 401/);
  });
});

describe(".ci/verify-approval.mjs: the approval of code is enforced, or nothing runs", () => {
  const rule = {
    id: 1,
    node_id: "n",
    type: "required_reviewers",
    prevent_self_review: true,
    reviewers: [{ type: "User", reviewer: { login: "reviewer" } }],
  };
  const rows: [string, unknown, number | undefined, 0 | 1, RegExp][] = [
    [
      "reviewers required, self-review prevented, no bypass",
      { name: "preview-code", protection_rules: [rule], can_admins_bypass: false },
      undefined,
      0,
      /required reviewers, self-review prevented, no administrator bypass/,
    ],
    ["the environment does not exist", undefined, undefined, 1, /cannot read the environment preview-code: HTTP 404/],
    [
      "the token may not read environments",
      { message: "Resource not accessible by integration" },
      403,
      1,
      /HTTP 403 \(is actions: read granted\?\)/,
    ],
    [
      "no required reviewers",
      { name: "preview-code", protection_rules: [{ type: "wait_timer", wait_timer: 5 }], can_admins_bypass: false },
      undefined,
      1,
      /has no required reviewers/,
    ],
    [
      "no reviewer named",
      { name: "preview-code", protection_rules: [{ ...rule, reviewers: [] }], can_admins_bypass: false },
      undefined,
      1,
      /names no reviewer/,
    ],
    [
      "self-review allowed",
      { name: "preview-code", protection_rules: [{ ...rule, prevent_self_review: false }], can_admins_bypass: false },
      undefined,
      1,
      /Prevent self-review is off/,
    ],
    [
      "administrators may bypass",
      { name: "preview-code", protection_rules: [rule], can_admins_bypass: true },
      undefined,
      1,
      /lets administrators bypass/,
    ],
    [
      "the bypass field missing (fails closed)",
      { name: "preview-code", protection_rules: [rule] },
      undefined,
      1,
      /lets administrators bypass/,
    ],
  ];
  for (const [what, environment, status, code, says] of rows) {
    it(`${what} -> exit ${code}`, async () => {
      state = { files: [], contents: {}, environment, environmentStatus: status };
      const result = await run("verify-approval.mjs", ROOT, { ENVIRONMENT: "preview-code" });
      assert.equal(result.code, code, result.stdout + result.stderr);
      assert.match(result.stdout, says);
      assert.ok(!(result.stdout + result.stderr).includes(TOKEN));
    });
  }
});

describe(".ci/lockfile-hosts.mjs: packages from the npm registry, with integrity", () => {
  const lock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
  const project = (edit: (l: typeof lock) => void, npmrc?: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), "castle-lockfile-"));
    dirs.push(dir);
    const copy = structuredClone(lock);
    edit(copy);
    writeFileSync(path.join(dir, "package-lock.json"), JSON.stringify(copy));
    if (npmrc !== undefined) writeFileSync(path.join(dir, ".npmrc"), npmrc);
    return dir;
  };
  const first = Object.keys(lock.packages).find((k) => k !== "") as string;
  const rows: [string, (l: typeof lock) => void, string | undefined, 0 | 1, RegExp][] = [
    ["the project's lockfile", () => {}, undefined, 0, /every package from https:\/\/registry\.npmjs\.org/],
    [
      "resolved on the npm registry",
      (l) => (l.packages[first].resolved = "https://registry.npmjs.org/x/-/x-1.0.0.tgz"),
      undefined,
      0,
      /every package/,
    ],
    [
      "resolved from another host",
      (l) => (l.packages[first].resolved = "https://evil.example/x-1.0.0.tgz"),
      undefined,
      1,
      /resolved from https:\/\/evil\.example, not https:\/\/registry\.npmjs\.org/,
    ],
    [
      "resolved over http",
      (l) => (l.packages[first].resolved = "http://registry.npmjs.org/x/-/x-1.0.0.tgz"),
      undefined,
      1,
      /resolved from http:\/\/registry\.npmjs\.org/,
    ],
    [
      "resolved from git",
      (l) => (l.packages[first].resolved = "git+ssh://git@github.com/x/x.git#abc"),
      undefined,
      1,
      /resolved from git\+ssh:/,
    ],
    ["no integrity", (l) => delete l.packages[first].integrity, undefined, 1, /no sha512 integrity/],
    [
      "an .npmrc pointing elsewhere",
      () => {},
      "registry=https://npm.evil.example/\n",
      1,
      /\.npmrc: registry points away/,
    ],
    [
      "a scoped registry elsewhere",
      () => {},
      "@pulumi:registry=https://npm.evil.example/\n",
      1,
      /@pulumi:registry points away/,
    ],
  ];
  for (const [what, edit, npmrc, code, says] of rows) {
    it(`${what} -> exit ${code}`, async () => {
      const result = await run("lockfile-hosts.mjs", ROOT, { ARG: project(edit, npmrc) });
      assert.equal(result.code, code, result.stdout + result.stderr);
      assert.match(result.stdout + result.stderr, says);
    });
  }
});

describe("CI rules (CASTLE_CI=true): hosts refused, not overridden; TLS verified", () => {
  const config = loadStackFile(ROOT, "blue");
  const CI = {
    CASTLE_CI: "true",
    INFISICAL_SITE_URL: config.infisical.siteUrl,
    PROXMOX_VE_ENDPOINT: config.proxmox.endpoint,
  };
  it("a stack whose hosts are the environment's passes", () => {
    assert.deepEqual(ciProblems(config, CI), []);
  });
  it("a stack that moves the Infisical host is refused, naming both hosts", () => {
    const moved = { ...config, infisical: { ...config.infisical, siteUrl: "https://attacker.example" } };
    const problems = ciProblems(moved, CI);
    assert.deepEqual(
      problems.map((p) => p.key),
      ["castle:infisical.siteUrl"],
    );
    assert.match(
      problems[0].message,
      /https:\/\/attacker\.example differs from .* \(INFISICAL_SITE_URL of the CI environment\)/,
    );
    assert.throws(() => withHostOverrides("blue", moved, CI), /stack "blue" \(CI environment\) has 1 problem/);
  });
  it("a stack that moves the Proxmox host is refused", () => {
    const moved = { ...config, proxmox: { ...config.proxmox, endpoint: "https://pve.attacker.example:8006/" } };
    assert.deepEqual(
      ciProblems(moved, CI).map((p) => p.key),
      ["castle:proxmox.endpoint"],
    );
  });
  it("TLS verification cannot be turned off, by the stack or by the environment", () => {
    const insecure = { ...config, proxmox: { ...config.proxmox, insecureSkipTlsVerify: true } };
    assert.deepEqual(
      ciProblems(insecure, { ...CI, NODE_TLS_REJECT_UNAUTHORIZED: "0" }).map((p) => p.key),
      ["castle:proxmox.insecureSkipTlsVerify", "NODE_TLS_REJECT_UNAUTHORIZED"],
    );
  });
  it("the hosts must be set in CI", () => {
    assert.deepEqual(
      ciProblems(config, { CASTLE_CI: "true" }).map((p) => p.key),
      ["INFISICAL_SITE_URL", "PROXMOX_VE_ENDPOINT"],
    );
  });
  it("outside CI the environment's hosts override, as before", () => {
    const moved = { ...config, proxmox: { ...config.proxmox, endpoint: "https://pve.attacker.example:8006/" } };
    assert.deepEqual(ciProblems(moved, { PROXMOX_VE_ENDPOINT: config.proxmox.endpoint }), []);
    assert.equal(
      withHostOverrides("blue", moved, { PROXMOX_VE_ENDPOINT: config.proxmox.endpoint }).proxmox.endpoint,
      config.proxmox.endpoint,
    );
  });
  it("INFISICAL_SECRET_PATH is the folder the program's identity reads (the preview identity's own)", () => {
    const env = { ...CI, INFISICAL_SECRET_PATH: "/castle/preview/blue" };
    assert.equal(withHostOverrides("blue", config, env).infisical.secretPath, "/castle/preview/blue");
    assert.throws(
      () => withHostOverrides("blue", config, { INFISICAL_SECRET_PATH: "/castle/../blue" }),
      /INFISICAL_SECRET_PATH: must name its folders without '\.' or '\.\.' steps/,
    );
  });
});
