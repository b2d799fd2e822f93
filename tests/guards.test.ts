import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { guardProblems } from "../config/guards";
import { gitopsIdentityProblem, sharedIdentityProblem } from "../config/identity";

const current = { fingerprint: "sha256:1111111111111111", contract: "v1.13" };

describe("re-keying guard", () => {
  it("lets the first up through (no previous outputs)", () => {
    assert.deepEqual(guardProblems("blue", {}, current), []);
  });

  it("lets an unchanged key and contract through", () => {
    assert.deepEqual(guardProblems("blue", { ...current }, current), []);
  });

  it("refuses a changed key, explaining the danger and the way out", () => {
    const previous = { fingerprint: "sha256:2222222222222222", contract: "v1.13" };
    const problems = guardProblems("blue", previous, current);
    assert.equal(problems.length, 1);
    assert.match(
      problems[0],
      /fingerprint sha256:1111111111111111\) is not the key .* \(fingerprint sha256:2222222222222222\)/,
    );
    assert.match(problems[0], /every Kubernetes Secret in etcd unreadable/);
    assert.match(problems[0], /npx castle recreate blue/);
  });

  it("refuses a changed Talos contract", () => {
    const problems = guardProblems("green", { ...current, contract: "v1.12" }, current);
    assert.equal(problems.length, 1);
    assert.match(problems[0], /Talos version contract changed from v1\.12 to v1\.13 \(castle:talos\.contract\)/);
    assert.match(problems[0], /npx castle recreate green/);
  });

  it("reports both at once", () => {
    assert.equal(guardProblems("blue", { fingerprint: "sha256:0", contract: "v1.12" }, current).length, 2);
  });
});

describe("least privilege: ESO's identity", () => {
  it("refuses the program's own identity for ESO", () => {
    const problem = sharedIdentityProblem({
      stack: "blue",
      program: { clientId: "id-program" },
      eso: { clientId: "id-program" },
      allowShared: false,
    });
    assert.match(problem ?? "", /ESO machine identity .* is the same identity this program logs in with/);
    assert.match(problem ?? "", /castle:guards\.allowSharedInfisicalIdentity: true/);
    assert.ok(!(problem ?? "").includes("id-program"), "the client id is not echoed");
  });

  it("accepts a separate identity, or a shared one the stack explicitly accepts", () => {
    assert.equal(
      sharedIdentityProblem({
        stack: "blue",
        program: { clientId: "id-program" },
        eso: { clientId: "id-eso" },
        allowShared: false,
      }),
      undefined,
    );
    assert.equal(
      sharedIdentityProblem({
        stack: "blue",
        program: { clientId: "id-program" },
        eso: { clientId: "id-program" },
        allowShared: true,
      }),
      undefined,
    );
  });

  it("tells identities apart by the identity id in their access tokens when a token replaces the client id", () => {
    const same = sharedIdentityProblem({
      stack: "blue",
      program: { identityId: "7d0c1a52-identity" },
      eso: { clientId: "id-eso", identityId: "7d0c1a52-identity" },
      allowShared: false,
    });
    assert.match(
      same ?? "",
      /is the same identity \(7d0c1a52-identity\) as the one whose access token this program uses \(INFISICAL_TOKEN\)/,
    );
    assert.equal(
      sharedIdentityProblem({
        stack: "blue",
        program: { identityId: "a" },
        eso: { clientId: "id-eso", identityId: "b" },
        allowShared: false,
      }),
      undefined,
    );
    // Nothing known on one side: nothing to compare, no claim either way.
    assert.equal(
      sharedIdentityProblem({
        stack: "blue",
        program: { identityId: "a" },
        eso: { clientId: "id-eso" },
        allowShared: false,
      }),
      undefined,
    );
  });
});

describe("least privilege: the Git credential's identity", () => {
  const base = { stack: "blue", program: { clientId: "id-program" }, cluster: { clientId: "id-eso" } };

  it("refuses the program's and the cluster's identity, with no setting to accept it", () => {
    assert.match(
      gitopsIdentityProblem({ ...base, gitops: { clientId: "id-program" } }) ?? "",
      /Git credential's machine identity .* is the identity this program logs in with/,
    );
    const cluster = gitopsIdentityProblem({ ...base, gitops: { clientId: "id-eso" } }) ?? "";
    assert.match(cluster, /is the cluster's identity \(castle:infisical\.secretNames\.esoClientId\)/);
    assert.match(cluster, /may read castle:gitops\.secretsPath only/);
    assert.ok(!cluster.includes("id-eso"), "the client id is not echoed");
  });

  it("accepts an identity of its own; tells identities apart by their tokens' identity ids too", () => {
    assert.equal(gitopsIdentityProblem({ ...base, gitops: { clientId: "id-git" } }), undefined);
    assert.match(
      gitopsIdentityProblem({
        stack: "blue",
        program: { identityId: "p" },
        cluster: { identityId: "c" },
        gitops: { identityId: "c" },
      }) ?? "",
      /is the cluster's identity/,
    );
    assert.equal(
      gitopsIdentityProblem({ stack: "blue", program: {}, cluster: {}, gitops: { identityId: "g" } }),
      undefined,
      "nothing known on the other sides: no claim",
    );
  });
});
