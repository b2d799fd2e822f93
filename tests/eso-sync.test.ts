import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { externalSecretSyncProblem, type LiveExternalSecret } from "../lib/eso-sync";

/**
 * Live ExternalSecrets as ESO v2.9.0 leaves them (pkg/controllers/externalsecret/externalsecret_controller.go
 * `markAsDone`/`markAsFailed`; reasons from apis/externalsecrets/v1/externalsecret_types.go:
 * `SecretSynced`, `SecretSyncedError`). The hash after the generation is ESO's hash of labels and annotations.
 */
const HASH = "3b0a6c1f5d0e4f1c9a7b2e8d6c4a0f1e3d5b7c9a1e2f3a4b5c6d7e8f";
const live = (generation: number, status: LiveExternalSecret["status"]): LiveExternalSecret => ({
  metadata: { name: "flux-git-credentials", namespace: "flux-system", generation },
  status,
});
const ready = { type: "Ready", status: "True", reason: "SecretSynced", message: "secret synced" };

describe("externalSecretSyncProblem (for castle verify)", () => {
  it("the current spec synced: Ready, synced version of the current generation", () => {
    assert.equal(
      externalSecretSyncProblem(
        live(3, { conditions: [ready], refreshTime: "2026-12-03T09:00:00Z", syncedResourceVersion: `3-${HASH}` }),
      ),
      undefined,
    );
  });

  it("an update whose sync failed: Ready=False, the old synced version kept", () => {
    const failed = {
      type: "Ready",
      status: "False",
      reason: "SecretSyncedError",
      message: "could not get secret data from provider",
    };
    assert.equal(
      externalSecretSyncProblem(live(4, { conditions: [failed], syncedResourceVersion: `3-${HASH}` })),
      "ExternalSecret flux-system/flux-git-credentials: Ready=False (SecretSyncedError: could not get secret data from provider)",
    );
  });

  it("an update not yet synced: the old Ready=True, which pulumi.com/waitFor accepts, is not enough", () => {
    assert.equal(
      externalSecretSyncProblem(live(4, { conditions: [ready], syncedResourceVersion: `3-${HASH}` })),
      "ExternalSecret flux-system/flux-git-credentials: Ready from generation 3, but the spec is at generation 4: ESO has not synced the current spec (its last attempt failed, or it has not run yet)",
    );
  });

  it("a new object ESO has not looked at, and shapes that are not ESO's", () => {
    assert.match(externalSecretSyncProblem(live(1, undefined)) ?? "", /no Ready condition yet$/);
    assert.match(externalSecretSyncProblem(live(1, { conditions: [ready] })) ?? "", /no synced version$/);
    assert.match(
      externalSecretSyncProblem(live(1, { conditions: [ready], syncedResourceVersion: "abc" })) ?? "",
      /is not ESO's "<generation>-<hash>"$/,
    );
    assert.match(
      externalSecretSyncProblem({ metadata: { name: "x", namespace: "y" }, status: { conditions: [ready] } }) ?? "",
      /no metadata.generation/,
    );
  });
});
