#!/usr/bin/env node
// A pull request that changes code is previewed only in the environment `preview-code`, whose required
// reviewers approve each run. This proves that the approval is enforced before the job that needs it is
// queued, and fails closed: the environment must exist, carry a required-reviewers rule with at least one
// reviewer and "Prevent self-review" on, and must not let administrators bypass it. Any other answer, an
// error or a missing field refuses.
// Environment: GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_TOKEN (actions: read), ENVIRONMENT (preview-code).

/** Why `environment` (GitHub's GET /repos/{repo}/environments/{name} reply) does not enforce an approval. */
export function approvalProblem(environment, name) {
  if (environment?.name !== name) return `the environment ${name} does not exist`;
  const rules = Array.isArray(environment.protection_rules) ? environment.protection_rules : [];
  const reviewers = rules.find((rule) => rule?.type === "required_reviewers");
  if (!reviewers) return `the environment ${name} has no required reviewers`;
  if (!Array.isArray(reviewers.reviewers) || reviewers.reviewers.length === 0) {
    return `the environment ${name} names no reviewer`;
  }
  if (reviewers.prevent_self_review !== true)
    return `the environment ${name} lets the author approve (Prevent self-review is off)`;
  if (environment.can_admins_bypass !== false)
    return `the environment ${name} lets administrators bypass its reviewers`;
  return undefined;
}

async function main() {
  const { GITHUB_API_URL: apiUrl, GITHUB_REPOSITORY: repo, GITHUB_TOKEN: token, ENVIRONMENT: name } = process.env;
  if (!apiUrl || !repo || !token || !name)
    throw new Error("set GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_TOKEN and ENVIRONMENT");
  const response = await fetch(`${apiUrl}/repos/${repo}/environments/${encodeURIComponent(name)}`, {
    headers: {
      accept: "application/vnd.github+json",
      authorization: `Bearer ${token}`,
      "x-github-api-version": "2022-11-28",
    },
  });
  if (!response.ok)
    throw new Error(`cannot read the environment ${name}: HTTP ${response.status} (is actions: read granted?)`);
  const problem = approvalProblem(await response.json(), name);
  if (problem)
    throw new Error(`${problem}: a pull request that changes code is not previewed without an enforced approval`);
  console.log(`${name}: required reviewers, self-review prevented, no administrator bypass`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.log(`::error::${error.message}`);
    process.exit(1);
  });
}
