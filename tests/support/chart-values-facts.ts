/**
 * Facts about the Helm values of the two charts the castle installs, for the keys the castle sets: each
 * value path (dots between keys) and the chart's default there. Helm ignores a value the chart does not
 * read, and neither chart's values.schema.json forbids unknown keys, so a misspelt or renamed key would be
 * dropped without a word: tests/chart-values.test.ts checks every key the castle sets against these tables.
 *
 * ESO: external-secrets/external-secrets at tag helm-chart-2.9.0, deploy/charts/external-secrets/values.yaml.
 * `crds.annotations` is written on every CRD: hack/helm.generate.sh (same tag) inserts
 * `{{- with .Values.crds.annotations }}` into each CRD template's annotations when the chart is built.
 *
 * Flux Operator: the chart is published from controlplaneio-fluxcd/charts (charts/flux-operator); the
 * flux-operator repository holds no chart at v0.58.1. The newest chart readable here is 0.49.0
 * (controlplaneio-fluxcd/charts@cf746d9, 2026-05-12, charts/flux-operator/values.yaml and
 * values.schema.json). The castle pins 0.58.1: the keys below are assumed unchanged between 0.49.0 and
 * 0.58.1 (not verified; check this table first when the chart is readable at 0.58.1). Their use, same
 * commit: `installCRDs` gates templates/crds.yaml, `web.enabled` gates the web UI's objects
 * (templates/_helpers.tpl), `multitenancy.enabled` adds `--default-service-account` (templates/deployment.yaml).
 */

/** A chart's source and the defaults of the value paths the castle may set. */
export interface ChartValuesFacts {
  source: string;
  /** Value path -> the chart's default (an empty map `{}` for a map the user fills). */
  defaults: Readonly<Record<string, unknown>>;
}

export const ESO_CHART_VALUES: ChartValuesFacts = {
  source: "external-secrets@helm-chart-2.9.0 deploy/charts/external-secrets/values.yaml",
  defaults: {
    installCRDs: true,
    "crds.createClusterExternalSecret": true,
    "crds.createClusterSecretStore": true,
    "crds.createSecretStore": true,
    "crds.createClusterGenerator": true,
    "crds.createClusterPushSecret": true,
    "crds.createPushSecret": true,
    "crds.annotations": {},
    "crds.conversion.enabled": false,
    "crds.unsafeServeV1Beta1": false,
    processClusterStore: true,
    processSecretStore: true,
    "webhook.create": true,
    "webhook.failurePolicy": "Fail",
    "webhook.certManager.enabled": false,
    "certController.create": true,
  },
};

export const FLUX_OPERATOR_CHART_VALUES: ChartValuesFacts = {
  source: "controlplaneio-fluxcd/charts@cf746d9 (chart 0.49.0) charts/flux-operator/values.yaml; 0.58.1 assumed alike",
  defaults: {
    installCRDs: true,
    "web.enabled": true,
    "web.serverOnly": false,
    "multitenancy.enabled": false,
    "multitenancy.enabledForWorkloadIdentity": false,
    "multitenancy.defaultServiceAccount": "flux-operator",
  },
};

/** The maps whose keys are the user's (annotations, labels): their entries are not value paths of the chart. */
const USER_MAPS = new Set(["crds.annotations"]);

/** Every value path of `values` (maps walked down to their leaves, user maps kept whole). */
export function valuePaths(values: Record<string, unknown>, prefix = ""): string[] {
  return Object.entries(values).flatMap(([key, value]) => {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    const isMap = typeof value === "object" && value !== null && !Array.isArray(value);
    if (!USER_MAPS.has(path) && isMap && Object.keys(value).length > 0) {
      return valuePaths(value as Record<string, unknown>, path);
    }
    return [path];
  });
}

/** The value at `path` of `values`. */
export function valueAt(values: Record<string, unknown>, path: string): unknown {
  return path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], values);
}

/**
 * Problems of `values` against a chart's facts: a path the chart does not have, or a value of another
 * kind than the chart's default. Empty when every key is one the chart reads.
 */
export function chartValueProblems(values: Record<string, unknown>, facts: ChartValuesFacts): string[] {
  const kind = (value: unknown) => (Array.isArray(value) ? "list" : value === null ? "null" : typeof value);
  return valuePaths(values).flatMap((path) => {
    if (!Object.hasOwn(facts.defaults, path)) return [`${path}: not a value of the chart (${facts.source})`];
    const expected = kind(facts.defaults[path]);
    const actual = kind(valueAt(values, path));
    return actual === expected ? [] : [`${path}: ${actual}, the chart's default is a ${expected}`];
  });
}
