#!/usr/bin/env node
// Which preview a pull request gets, from the files it changes (GitHub's list, never the pull request's code):
// - "config": it changes only stack files Pulumi.<stack>.yaml (added or modified, holding only `config:`
//   besides settings equal to the base branch's): previewed by the base branch's code, the pull request's stack
//   files copied in as data, after `castle check`;
// - "code": anything else (code, lockfile, workflows, Pulumi.yaml, a removed or renamed stack file): previewed
//   only after an approval whose enforcement .ci/verify-approval.mjs proves.
// Writes kind=<config|code> and stacks=<JSON list> to $GITHUB_OUTPUT; for "config", writes the pull request's
// stack files into the working directory (the base checkout).
// Environment: GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_TOKEN (pull-requests: read, contents: read),
// PR_NUMBER, HEAD_SHA, GITHUB_OUTPUT; EXPECT_KIND (optional): fail unless the pull request is of that kind.
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { parse } from "yaml";

export const STACK_FILE = /^Pulumi\.([a-z0-9][a-z0-9-]{0,62})\.yaml$/;
/** Stack-file settings besides `config:` that a config-only pull request must leave as the base has them. */
const SETTINGS = ["secretsprovider", "encryptedkey", "encryptionsalt"];

/** The kind of preview for GitHub's list of changed files ({filename, status}). */
export function classify(files) {
  if (!Array.isArray(files) || files.length === 0) return { kind: "code", why: "no changed files listed" };
  for (const file of files) {
    const match = STACK_FILE.exec(String(file?.filename));
    if (!match) return { kind: "code", why: `${file?.filename} is not a stack file` };
    if (file.status !== "added" && file.status !== "modified") {
      return { kind: "code", why: `${file.filename} is ${file.status}` };
    }
  }
  return { kind: "config", stacks: files.map((file) => STACK_FILE.exec(file.filename)[1]).sort() };
}

/** Why a stack file of the pull request is more than data, or undefined. `base` is the base's text, if any. */
export function stackFileProblem(text, base) {
  let head;
  try {
    head = parse(text);
  } catch {
    return "is not valid YAML";
  }
  if (head === null || typeof head !== "object" || Array.isArray(head)) return "is not a map of settings";
  const baseDoc = base === undefined ? {} : (parse(base) ?? {});
  for (const key of Object.keys(head)) {
    if (key === "config") continue;
    if (!SETTINGS.includes(key)) return `sets ${key}, which is not stack data (only config: may change)`;
  }
  for (const key of SETTINGS) {
    if (JSON.stringify(head[key]) !== JSON.stringify(baseDoc[key])) return `changes ${key}: only config: may change`;
  }
  return undefined;
}

async function api(path) {
  const response = await fetch(`${process.env.GITHUB_API_URL}${path}`, {
    headers: {
      accept: "application/vnd.github+json",
      authorization: `Bearer ${process.env.GITHUB_TOKEN}`,
      "x-github-api-version": "2022-11-28",
    },
  });
  if (!response.ok) throw new Error(`GitHub API ${path.split("?")[0]}: HTTP ${response.status}`);
  return response.json();
}

async function main() {
  const { GITHUB_REPOSITORY: repo, PR_NUMBER: number, HEAD_SHA: head, GITHUB_OUTPUT: output } = process.env;
  if (!repo || !/^\d+$/.test(number ?? "") || !/^[0-9a-f]{40}$/.test(head ?? "") || !output) {
    throw new Error("set GITHUB_REPOSITORY, PR_NUMBER, HEAD_SHA and GITHUB_OUTPUT");
  }
  const files = [];
  for (let page = 1; page <= 30; page++) {
    const batch = await api(`/repos/${repo}/pulls/${number}/files?per_page=100&page=${page}`);
    files.push(...batch);
    if (batch.length < 100) break;
  }
  let result = classify(files);
  if (result.kind === "config") {
    for (const file of files) {
      const reply = await api(`/repos/${repo}/contents/${encodeURIComponent(file.filename)}?ref=${head}`);
      const text = Buffer.from(String(reply.content ?? ""), "base64").toString("utf8");
      const base = existsSync(file.filename) ? readFileSync(file.filename, "utf8") : undefined;
      const problem = stackFileProblem(text, base);
      if (problem) {
        result = { kind: "code", why: `${file.filename} ${problem}` };
        break;
      }
      writeFileSync(file.filename, text);
    }
  }
  // Every stack of the (updated) base checkout is previewed for a code change; only the changed ones for config.
  const stacks =
    result.kind === "config"
      ? result.stacks
      : readdirSync(".")
          .flatMap((f) => STACK_FILE.exec(f)?.[1] ?? [])
          .sort();
  console.log(result.kind === "config" ? `config only: ${stacks.join(", ")}` : `code: ${result.why}`);
  // A job that runs only for one kind (EXPECT_KIND) stops when the pull request turns out to be the other.
  if (process.env.EXPECT_KIND && process.env.EXPECT_KIND !== result.kind) {
    throw new Error(`expected a ${process.env.EXPECT_KIND} pull request, found ${result.kind}`);
  }
  appendFileSync(output, `kind=${result.kind}\nstacks=${JSON.stringify(stacks)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.log(`::error::${error.message}`);
    process.exit(1);
  });
}
