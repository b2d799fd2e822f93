/**
 * Facts of the Talos v1.13 machine-config JSON schema that the castle's patches touch, derived from
 * the Talos machine-config JSON schema (siderolabs/talos v1.13.9,
 * pkg/machinery/config/schemas/config.schema.json, commit 3ebd10a7c1bd0f81742bdcd0c3fe56d727db7401).
 * Every property name of each listed definition is kept, so an unknown field (such as the legacy
 * `machine.network`, which the v1.13 schema no longer has) is reported. Fields of definitions the
 * castle does not write are `any`: present in the schema, not checked further; a schema `type: object`
 * without listed properties is an `unchecked` object. Each constant names its schema definition
 * (`$defs/<name>`, all `additionalProperties: false`); the schema's enums are untyped, and every one
 * lists strings only, so they are string enums here.
 *
 * `validateTalosDocument` checks one YAML document against these facts with the engine of
 * schema-check.ts: the document's `kind` picks the definition; a document without `kind` is a v1alpha1
 * config (strategic-merge) patch. Each problem starts with the document's kind (`LinkConfig:`) or
 * `v1alpha1 config:`, then the field path from the document's root (`addresses[0].address: ...`).
 */
import { type Fact, isRecord, labelled, typeOf, walk } from "./schema-check";

export const TALOS_SCHEMA_ID = "https://talos.dev/v1.13/schemas/config.schema.json";

/** A field of the schema whose content the castle does not write. */
const any: Fact = { type: "any" };
/** Schema `type: object` without listed properties. */
const object: Fact = { type: "unchecked", of: "object" };
const string: Fact = { type: "string" };
const integer: Fact = { type: "integer" };
const boolean: Fact = { type: "boolean" };
const strings: Fact = { type: "array", items: string };
const v1alpha1: Fact = { type: "string", enum: ["v1alpha1"] };
/** `network.AddressConfig.address`, `network.RouteConfig.destination`: an address with its prefix length. */
const PREFIX = /^[0-9a-f.:]+\/\d{1,3}$/;
/** `network.RouteConfig.gateway`/`source`, `network.NameserverConfig.address`: a bare address. */
const ADDRESS = /^[0-9a-f.:]+$/;

/** `v1alpha1.InstallConfig`. */
const INSTALL_CONFIG: Fact = {
  type: "object",
  properties: {
    disk: string,
    diskSelector: any,
    image: string,
    wipe: boolean,
    legacyBIOSSupport: boolean,
    grubUseUKICmdline: boolean,
  },
};

/** `v1alpha1.MachineConfig`. */
const MACHINE_CONFIG: Fact = {
  type: "object",
  properties: {
    type: { type: "string", enum: ["controlplane", "worker"] },
    token: string,
    ca: object,
    acceptedCAs: object,
    certSANs: strings,
    controlPlane: any,
    kubelet: any,
    pods: { type: "array", items: object },
    install: INSTALL_CONFIG,
    files: { type: "array", items: any },
    sysctls: object,
    sysfs: object,
    features: any,
    udev: any,
    logging: any,
    kernel: any,
    seccompProfiles: { type: "array", items: any },
    baseRuntimeSpecOverrides: object,
    nodeLabels: object,
    nodeAnnotations: object,
    nodeTaints: object,
  },
};

/** `v1alpha1.ClusterConfig`. */
const CLUSTER_CONFIG: Fact = {
  type: "object",
  properties: {
    id: string,
    secret: string,
    controlPlane: any,
    clusterName: string,
    network: any,
    token: string,
    aescbcEncryptionSecret: string,
    secretboxEncryptionSecret: string,
    ca: object,
    acceptedCAs: object,
    aggregatorCA: object,
    serviceAccount: object,
    apiServer: any,
    controllerManager: any,
    proxy: any,
    scheduler: any,
    discovery: any,
    etcd: any,
    coreDNS: any,
    externalCloudProvider: any,
    extraManifests: strings,
    extraManifestHeaders: object,
    inlineManifests: { type: "array", items: any },
    adminKubeconfig: any,
    allowSchedulingOnControlPlanes: boolean,
  },
};

/** `v1alpha1.Config`: a document without `kind`, the v1alpha1 config patch. */
export const V1ALPHA1_CONFIG_FACTS: Fact = {
  type: "object",
  properties: {
    version: v1alpha1,
    debug: boolean,
    machine: MACHINE_CONFIG,
    cluster: CLUSTER_CONFIG,
  },
};

/** `network.AddressConfig`. */
const ADDRESS_CONFIG: Fact = {
  type: "object",
  properties: {
    address: { type: "string", pattern: PREFIX },
    routePriority: integer,
  },
  required: ["address"],
};

/** `network.RouteConfig`. */
const ROUTE_CONFIG: Fact = {
  type: "object",
  properties: {
    destination: { type: "string", pattern: PREFIX },
    gateway: { type: "string", pattern: ADDRESS },
    source: { type: "string", pattern: ADDRESS },
    metric: integer,
    mtu: integer,
    table: string,
  },
};

/** `network.LinkSelector`. */
const LINK_SELECTOR: Fact = {
  type: "object",
  properties: {
    match: string,
  },
};

/** `network.NameserverConfig`. */
const NAMESERVER_CONFIG: Fact = {
  type: "object",
  properties: {
    address: { type: "string", pattern: ADDRESS },
  },
};

/** `network.SearchDomainsConfig`. */
const SEARCH_DOMAINS_CONFIG: Fact = {
  type: "object",
  properties: {
    domains: strings,
    disableDefault: boolean,
  },
};

/** The `apiVersion` and `kind` every kind document starts with (both required). */
const kindFields = (kind: string) => ({ apiVersion: v1alpha1, kind: { type: "string", enum: [kind] } }) as const;

/** Document kinds (with `apiVersion: v1alpha1`) and their facts. */
export const TALOS_KIND_FACTS: Readonly<Record<string, Fact>> = {
  /** `network.HostnameConfigV1Alpha1`. */
  HostnameConfig: {
    type: "object",
    properties: {
      ...kindFields("HostnameConfig"),
      auto: { type: "string", enum: ["stable", "off"] },
      hostname: string,
    },
    required: ["apiVersion", "kind"],
  },
  /** `network.LinkConfigV1Alpha1`. */
  LinkConfig: {
    type: "object",
    properties: {
      ...kindFields("LinkConfig"),
      name: string,
      up: boolean,
      mtu: integer,
      addresses: { type: "array", items: ADDRESS_CONFIG },
      routes: { type: "array", items: ROUTE_CONFIG },
      multicast: boolean,
    },
    required: ["apiVersion", "kind", "name"],
  },
  /** `network.LinkAliasConfigV1Alpha1`. */
  LinkAliasConfig: {
    type: "object",
    properties: {
      ...kindFields("LinkAliasConfig"),
      name: string,
      selector: LINK_SELECTOR,
    },
    required: ["apiVersion", "kind", "name"],
  },
  /** `network.Layer2VIPConfigV1Alpha1`. */
  Layer2VIPConfig: {
    type: "object",
    properties: {
      ...kindFields("Layer2VIPConfig"),
      name: string,
      link: string,
    },
    required: ["apiVersion", "kind", "name"],
  },
  /** `network.ResolverConfigV1Alpha1`. */
  ResolverConfig: {
    type: "object",
    properties: {
      ...kindFields("ResolverConfig"),
      nameservers: { type: "array", items: NAMESERVER_CONFIG },
      searchDomains: SEARCH_DOMAINS_CONFIG,
    },
    required: ["apiVersion", "kind"],
  },
};

/**
 * Problems of one parsed YAML document against the v1.13 facts; empty when it is valid. Each starts
 * with the document's kind, or `v1alpha1 config` for a document without `kind`.
 */
export function validateTalosDocument(doc: unknown): string[] {
  if (!isRecord(doc)) return [`config document: expected object, got ${typeOf(doc)}`];
  const problems: string[] = [];
  if (!("kind" in doc)) {
    walk(doc, V1ALPHA1_CONFIG_FACTS, "", problems);
    return labelled("v1alpha1 config", problems);
  }
  const kind = String(doc.kind);
  const facts = Object.hasOwn(TALOS_KIND_FACTS, kind) ? TALOS_KIND_FACTS[kind] : undefined;
  if (!facts) {
    return [`${kind}: not a kind the castle's facts know (known: ${Object.keys(TALOS_KIND_FACTS).join(", ")})`];
  }
  walk(doc, facts, "", problems);
  return labelled(kind, problems);
}
