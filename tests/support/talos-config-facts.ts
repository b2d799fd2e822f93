/**
 * Facts of the Talos v1.13 machine-config JSON schema that the castle's patches touch, derived from
 * the Talos machine-config JSON schema (siderolabs/talos v1.13.9,
 * pkg/machinery/config/schemas/config.schema.json, commit 3ebd10a7c1bd0f81742bdcd0c3fe56d727db7401).
 * Every property name of each listed definition is kept, so an unknown field (such as the legacy
 * `machine.network`, which the v1.13 schema no longer has) is reported. Fields of definitions the
 * castle does not write are `opaque`: present in the schema, not checked further.
 *
 * `validateTalosDocument` checks one YAML document against these facts: the document's `kind` picks
 * the definition; a document without `kind` is a v1alpha1 config (strategic-merge) patch.
 */

export type PropertyFact =
  | { type: "string"; pattern?: string }
  | { type: "integer" | "boolean" | "object" | "opaque" }
  | { type: "array"; items: PropertyFact }
  | { enum: string[] }
  | { ref: string };

export interface DefinitionFact {
  /** `additionalProperties: false` in the schema. */
  closed: boolean;
  required: string[];
  properties: Record<string, PropertyFact>;
}

export const TALOS_SCHEMA_ID = "https://talos.dev/v1.13/schemas/config.schema.json";

export const DEFINITIONS: Record<string, DefinitionFact> = {
  "v1alpha1.Config": {
    closed: true,
    required: [],
    properties: {
      version: { enum: ["v1alpha1"] },
      debug: { type: "boolean" },
      machine: { ref: "v1alpha1.MachineConfig" },
      cluster: { ref: "v1alpha1.ClusterConfig" },
    },
  },
  "v1alpha1.MachineConfig": {
    closed: true,
    required: [],
    properties: {
      type: { enum: ["controlplane", "worker"] },
      token: { type: "string" },
      ca: { type: "object" },
      acceptedCAs: { type: "object" },
      certSANs: { type: "array", items: { type: "string" } },
      controlPlane: { type: "opaque" },
      kubelet: { type: "opaque" },
      pods: { type: "array", items: { type: "object" } },
      install: { ref: "v1alpha1.InstallConfig" },
      files: { type: "array", items: { type: "opaque" } },
      sysctls: { type: "object" },
      sysfs: { type: "object" },
      features: { type: "opaque" },
      udev: { type: "opaque" },
      logging: { type: "opaque" },
      kernel: { type: "opaque" },
      seccompProfiles: { type: "array", items: { type: "opaque" } },
      baseRuntimeSpecOverrides: { type: "object" },
      nodeLabels: { type: "object" },
      nodeAnnotations: { type: "object" },
      nodeTaints: { type: "object" },
    },
  },
  "v1alpha1.ClusterConfig": {
    closed: true,
    required: [],
    properties: {
      id: { type: "string" },
      secret: { type: "string" },
      controlPlane: { type: "opaque" },
      clusterName: { type: "string" },
      network: { type: "opaque" },
      token: { type: "string" },
      aescbcEncryptionSecret: { type: "string" },
      secretboxEncryptionSecret: { type: "string" },
      ca: { type: "object" },
      acceptedCAs: { type: "object" },
      aggregatorCA: { type: "object" },
      serviceAccount: { type: "object" },
      apiServer: { type: "opaque" },
      controllerManager: { type: "opaque" },
      proxy: { type: "opaque" },
      scheduler: { type: "opaque" },
      discovery: { type: "opaque" },
      etcd: { type: "opaque" },
      coreDNS: { type: "opaque" },
      externalCloudProvider: { type: "opaque" },
      extraManifests: { type: "array", items: { type: "string" } },
      extraManifestHeaders: { type: "object" },
      inlineManifests: { type: "array", items: { type: "opaque" } },
      adminKubeconfig: { type: "opaque" },
      allowSchedulingOnControlPlanes: { type: "boolean" },
    },
  },
  "v1alpha1.InstallConfig": {
    closed: true,
    required: [],
    properties: {
      disk: { type: "string" },
      diskSelector: { type: "opaque" },
      image: { type: "string" },
      wipe: { type: "boolean" },
      legacyBIOSSupport: { type: "boolean" },
      grubUseUKICmdline: { type: "boolean" },
    },
  },
  "network.HostnameConfigV1Alpha1": {
    closed: true,
    required: ["apiVersion", "kind"],
    properties: {
      apiVersion: { enum: ["v1alpha1"] },
      kind: { enum: ["HostnameConfig"] },
      auto: { enum: ["stable", "off"] },
      hostname: { type: "string" },
    },
  },
  "network.LinkConfigV1Alpha1": {
    closed: true,
    required: ["apiVersion", "kind", "name"],
    properties: {
      apiVersion: { enum: ["v1alpha1"] },
      kind: { enum: ["LinkConfig"] },
      name: { type: "string" },
      up: { type: "boolean" },
      mtu: { type: "integer" },
      addresses: { type: "array", items: { ref: "network.AddressConfig" } },
      routes: { type: "array", items: { ref: "network.RouteConfig" } },
      multicast: { type: "boolean" },
    },
  },
  "network.AddressConfig": {
    closed: true,
    required: ["address"],
    properties: {
      address: { type: "string", pattern: "^[0-9a-f.:]+/\\d{1,3}$" },
      routePriority: { type: "integer" },
    },
  },
  "network.RouteConfig": {
    closed: true,
    required: [],
    properties: {
      destination: { type: "string", pattern: "^[0-9a-f.:]+/\\d{1,3}$" },
      gateway: { type: "string", pattern: "^[0-9a-f.:]+$" },
      source: { type: "string", pattern: "^[0-9a-f.:]+$" },
      metric: { type: "integer" },
      mtu: { type: "integer" },
      table: { type: "string" },
    },
  },
  "network.LinkAliasConfigV1Alpha1": {
    closed: true,
    required: ["apiVersion", "kind", "name"],
    properties: {
      apiVersion: { enum: ["v1alpha1"] },
      kind: { enum: ["LinkAliasConfig"] },
      name: { type: "string" },
      selector: { ref: "network.LinkSelector" },
    },
  },
  "network.LinkSelector": {
    closed: true,
    required: [],
    properties: {
      match: { type: "string" },
    },
  },
  "network.Layer2VIPConfigV1Alpha1": {
    closed: true,
    required: ["apiVersion", "kind", "name"],
    properties: {
      apiVersion: { enum: ["v1alpha1"] },
      kind: { enum: ["Layer2VIPConfig"] },
      name: { type: "string" },
      link: { type: "string" },
    },
  },
  "network.ResolverConfigV1Alpha1": {
    closed: true,
    required: ["apiVersion", "kind"],
    properties: {
      apiVersion: { enum: ["v1alpha1"] },
      kind: { enum: ["ResolverConfig"] },
      nameservers: { type: "array", items: { ref: "network.NameserverConfig" } },
      searchDomains: { ref: "network.SearchDomainsConfig" },
    },
  },
  "network.NameserverConfig": {
    closed: true,
    required: [],
    properties: {
      address: { type: "string", pattern: "^[0-9a-f.:]+$" },
    },
  },
  "network.SearchDomainsConfig": {
    closed: true,
    required: [],
    properties: {
      domains: { type: "array", items: { type: "string" } },
      disableDefault: { type: "boolean" },
    },
  },
};

/** Document kinds (with `apiVersion: v1alpha1`) and their schema definitions. */
export const KINDS: Record<string, string> = {
  HostnameConfig: "network.HostnameConfigV1Alpha1",
  LinkConfig: "network.LinkConfigV1Alpha1",
  LinkAliasConfig: "network.LinkAliasConfigV1Alpha1",
  Layer2VIPConfig: "network.Layer2VIPConfigV1Alpha1",
  ResolverConfig: "network.ResolverConfigV1Alpha1",
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkValue(fact: PropertyFact, value: unknown, path: string): string[] {
  if ("ref" in fact) return checkObject(fact.ref, value, path);
  if ("enum" in fact)
    return fact.enum.includes(value as string) ? [] : [`${path}: must be one of ${fact.enum.join(", ")}`];
  switch (fact.type) {
    case "opaque":
      return [];
    case "string":
      if (typeof value !== "string") return [`${path}: must be a string`];
      if (fact.pattern && !new RegExp(fact.pattern).test(value)) return [`${path}: must match ${fact.pattern}`];
      return [];
    case "integer":
      return Number.isInteger(value) ? [] : [`${path}: must be an integer`];
    case "boolean":
      return typeof value === "boolean" ? [] : [`${path}: must be a boolean`];
    case "object":
      return isPlainObject(value) ? [] : [`${path}: must be an object`];
    case "array":
      if (!Array.isArray(value)) return [`${path}: must be an array`];
      return value.flatMap((item, i) => checkValue(fact.items, item, `${path}[${i}]`));
  }
}

function checkObject(name: string, value: unknown, path: string): string[] {
  const def = DEFINITIONS[name];
  if (!def) throw new Error(`no facts for schema definition ${name}`);
  if (!isPlainObject(value)) return [`${path}: must be an object (${name})`];
  const problems: string[] = [];
  for (const key of def.required) {
    if (!(key in value)) problems.push(`${path}.${key}: required by ${name}`);
  }
  for (const [key, item] of Object.entries(value)) {
    const fact = def.properties[key];
    if (!fact) {
      if (def.closed) problems.push(`${path}.${key}: not allowed by ${name}`);
      continue;
    }
    problems.push(...checkValue(fact, item, `${path}.${key}`));
  }
  return problems;
}

/** Problems of one parsed YAML document against the v1.13 facts; empty when it is valid. */
export function validateTalosDocument(doc: unknown): string[] {
  if (!isPlainObject(doc)) return ["$: a config document must be a mapping"];
  if (!("kind" in doc)) return checkObject("v1alpha1.Config", doc, "$");
  const definition = KINDS[String(doc.kind)];
  if (!definition) return [`$.kind: ${String(doc.kind)} is not a kind the castle's facts know`];
  return checkObject(definition, doc, "$");
}
