/**
 * The one structural checker behind the schema facts of the tests: a `Fact` describes what a value
 * must be (a subset of OpenAPI v3 / JSON Schema), and `walk` lists every way a value departs from it.
 * The fact tables live beside it: eso-crd-facts.ts (ESO v2.9.0 CRDs), flux-crd-facts.ts (flux-operator
 * v0.58.1 FluxInstance CRD) and talos-config-facts.ts (Talos v1.13 machine-config schema).
 *
 * Every object fact is closed: a field it does not list is a problem, even where the schema leaves
 * `additionalProperties` open (Kubernetes prunes such fields silently, which is always a mistake here).
 * Each problem is `<path>: <what is wrong>`, the path written `.spec.data[0].key` from the root.
 */

export type Fact =
  | {
      type: "string";
      enum?: readonly string[];
      pattern?: RegExp;
      minLength?: number;
      maxLength?: number;
    }
  | { type: "integer" }
  | { type: "boolean" }
  /** `x-kubernetes-int-or-string`. */
  | { type: "int-or-string" }
  | { type: "array"; items: Fact; minItems?: number }
  | {
      type: "object";
      properties: Readonly<Record<string, Fact>>;
      required?: readonly string[];
      minProperties?: number;
      maxProperties?: number;
    }
  /** An object whose values all follow one fact (`additionalProperties: {...}`). */
  | { type: "map"; values: Fact }
  /** A subtree the castle does not write: its type is checked, its content is not. */
  | { type: "unchecked"; of: "object" | "array" }
  /** A field the castle does not write and whose schema type is not checked here: any value. */
  | { type: "any" };

/** Kubernetes object names (RFC 1123 subdomain; at most 253 characters, given as `maxLength`). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Kubernetes namespaces and other label-like names (RFC 1123 label; at most 63 characters). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The JSON type of a value as the schema names it: `integer` and `number` apart, `null`, `array`. */
export function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeOf(value) === "object";
}

/**
 * Appends to `problems` every way `value` departs from `fact` (unknown field, missing required field,
 * wrong type, enum, pattern, length, item and property counts), each prefixed with its `path`.
 */
export function walk(value: unknown, fact: Fact, path: string, problems: string[]): void {
  const actual = typeOf(value);
  const wrongType = (expected: string) => problems.push(`${path}: expected ${expected}, got ${actual}`);
  switch (fact.type) {
    case "string": {
      if (typeof value !== "string") return void wrongType(fact.enum ? `one of ${fact.enum.join(", ")}` : "string");
      if (fact.enum && !fact.enum.includes(value)) {
        problems.push(`${path}: "${value}" is not one of ${fact.enum.join(", ")}`);
      }
      if (fact.minLength !== undefined && value.length < fact.minLength) {
        problems.push(`${path}: shorter than ${fact.minLength} characters`);
      }
      if (fact.maxLength !== undefined && value.length > fact.maxLength) {
        problems.push(`${path}: longer than ${fact.maxLength} characters`);
      }
      if (fact.pattern && !fact.pattern.test(value))
        problems.push(`${path}: "${value}" does not match ${fact.pattern}`);
      return;
    }
    case "integer":
    case "boolean":
      if (actual !== fact.type) wrongType(fact.type);
      return;
    case "int-or-string":
      if (actual !== "integer" && actual !== "string") wrongType("integer or string");
      return;
    case "unchecked":
      if (actual !== fact.of) wrongType(fact.of);
      return;
    case "any":
      return;
    case "map":
      if (!isRecord(value)) return void wrongType("object");
      for (const [key, item] of Object.entries(value)) walk(item, fact.values, `${path}.${key}`, problems);
      return;
    case "array":
      if (!Array.isArray(value)) return void wrongType("array");
      if (fact.minItems !== undefined && value.length < fact.minItems) {
        problems.push(`${path}: fewer than ${fact.minItems} items`);
      }
      value.forEach((item, i) => {
        walk(item, fact.items, `${path}[${i}]`, problems);
      });
      return;
    case "object": {
      if (!isRecord(value)) return void wrongType("object");
      const allowed = Object.keys(fact.properties);
      for (const [key, item] of Object.entries(value)) {
        const child = fact.properties[key];
        if (child) walk(item, child, `${path}.${key}`, problems);
        else problems.push(`${path}.${key}: unknown field (known: ${allowed.join(", ")})`);
      }
      for (const key of fact.required ?? []) {
        if (!(key in value)) problems.push(`${path}.${key}: required field missing`);
      }
      const count = Object.keys(value).length;
      if (fact.minProperties !== undefined && count < fact.minProperties) {
        problems.push(`${path}: needs at least ${fact.minProperties} field(s)`);
      }
      if (fact.maxProperties !== undefined && count > fact.maxProperties) {
        problems.push(`${path}: allows at most ${fact.maxProperties} field(s), has ${count}`);
      }
      return;
    }
  }
}

/** `<kind> <metadata.name>` of a Kubernetes manifest, the prefix of its problems. */
export function manifestLabel(manifest: Record<string, unknown>): string {
  const name = isRecord(manifest.metadata) ? String(manifest.metadata.name ?? "(no name)") : "(no metadata)";
  return `${typeof manifest.kind === "string" ? manifest.kind : "(no kind)"} ${name}`;
}

/**
 * The problem of an `apiVersion` that is not `<group>/<one of served>`, or undefined when it is served.
 * `server` names who serves it in the message (`ESO 2.9.0`, `the CRD`).
 */
export function unservedApiVersion(
  apiVersion: unknown,
  api: { group: string; served: readonly string[] },
  server: string,
): string | undefined {
  const [group, version] = String(apiVersion).split("/");
  if (group === api.group && api.served.includes(version ?? "")) return undefined;
  return `apiVersion: "${String(apiVersion)}" is not served; ${server} serves ${api.group}/${api.served.join(", ")}`;
}

/** Prefixes each problem with `label: ` and drops the leading `.` of its root-relative path. */
export function labelled(label: string, problems: readonly string[]): string[] {
  return problems.map((p) => `${label}: ${p.replace(/^\./, "")}`);
}
