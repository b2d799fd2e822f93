/**
 * Whether ESO has synced the current spec of an ExternalSecret: the check `castle verify` runs on the
 * live object after `up`, since `up` itself cannot wait for it on an update (README, "Honest waits").
 *
 * ESO v2.9.0 (external-secrets/external-secrets@v2.9.0):
 * - apis/externalsecrets/v1/externalsecret_types.go: `status.conditions[type=Ready]`, `status.refreshTime`,
 *   `status.syncedResourceVersion`; a condition has no `observedGeneration`, so pulumi-kubernetes' wait on
 *   `condition=Ready` is met by the Ready of the previous spec.
 * - pkg/controllers/externalsecret/externalsecret_controller.go `markAsDone`: on a successful sync ESO sets
 *   Ready=True, `refreshTime` and `syncedResourceVersion = GetResourceVersion(metadata)`; `markAsFailed`
 *   sets Ready=False and leaves `syncedResourceVersion` as it was.
 * - pkg/controllers/util/util.go `GetResourceVersion`: `"<metadata.generation>-<hash of labels and
 *   annotations>"`. The API server raises `generation` on every spec change, so a synced version that
 *   starts with the current generation means the current spec was synced.
 *
 * The hash part is not compared: it covers labels and annotations, which other tools may change without
 * a sync being owed, and reproducing it byte for byte (Go's `%+v` under SHA3-224) is not needed to tell
 * whether the spec was synced.
 */

/** The parts of a live ExternalSecret this check reads (as the API server returns them). */
export interface LiveExternalSecret {
  metadata: { name?: string; namespace?: string; generation?: number };
  status?: {
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    refreshTime?: string | null;
    syncedResourceVersion?: string;
  };
}

/**
 * Why the live ExternalSecret's current spec is not (yet) synced, or undefined when it is: Ready=True and
 * a synced version of the current generation.
 */
export function externalSecretSyncProblem(object: LiveExternalSecret): string | undefined {
  const name = `ExternalSecret ${object.metadata.namespace ?? "?"}/${object.metadata.name ?? "?"}`;
  const ready = object.status?.conditions?.find((condition) => condition.type === "Ready");
  if (ready?.status !== "True") {
    const why = ready
      ? `Ready=${ready.status}${ready.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ""})` : ""}`
      : "no Ready condition yet";
    return `${name}: ${why}`;
  }
  const generation = object.metadata.generation;
  const synced = object.status?.syncedResourceVersion;
  if (generation === undefined) return `${name}: no metadata.generation: not an object the API server returned`;
  if (synced === undefined || synced === "") return `${name}: Ready, but ESO recorded no synced version`;
  const syncedGeneration = Number(synced.split("-")[0]);
  if (!Number.isInteger(syncedGeneration) || `${syncedGeneration}-` !== synced.slice(0, synced.indexOf("-") + 1)) {
    return `${name}: syncedResourceVersion "${synced}" is not ESO's "<generation>-<hash>"`;
  }
  if (syncedGeneration !== generation) {
    return `${name}: Ready from generation ${syncedGeneration}, but the spec is at generation ${generation}: ESO has not synced the current spec (its last attempt failed, or it has not run yet)`;
  }
  return undefined;
}
