/**
 * Reading and validating a stack's `castle:` configuration, from `pulumi.Config` or straight from
 * `Pulumi.<stack>.yaml`, plus the cross-stack rules (blue and green must not collide).
 * Every problem is collected and reported at once, each naming the stack, the key, the value and
 * what is expected.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { isMap, isScalar, isSeq, parseDocument } from "yaml";
import type { core, z } from "zod";
import { secretLikeReason } from "../lib/secret-like";
import { closestName } from "../lib/suggest";
import { isSecureValue, pastedSecrets, type ValuePath } from "./pasted-secrets";
import { folderOverlap, gitopsIssues, overlapWords, settingsIssues, type TopologyLike, topologyIssues } from "./rules";
import {
  type CastleConfig,
  CastleConfigSchema,
  EsoSchema,
  GitOpsSchema,
  InfisicalSchema,
  NetworkSchema,
  NodeSchema,
  ProxmoxSchema,
} from "./schema";
import { infisicalFolder, isUnquotedIssue } from "./value-kinds";

/** One thing wrong with a stack's configuration. */
export interface ConfigProblem {
  /** The key as a user would write it: `castle:controlPlanes[1].ip`. */
  key: string;
  message: string;
}

/** A stack's configuration is invalid; `problems` lists every problem found. */
export class CastleConfigError extends Error {
  constructor(
    readonly stackName: string,
    readonly source: string,
    readonly problems: ConfigProblem[],
  ) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      `stack "${stackName}" (${source}) has ${count}:\n${problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n")}`,
    );
    this.name = "CastleConfigError";
  }
}

/** `["controlPlanes", 1, "ip"]` -> `castle:controlPlanes[1].ip`. */
export function configKey(segments: readonly PropertyKey[]): string {
  let key = "castle:";
  segments.forEach((segment, i) => {
    if (typeof segment === "number") key += `[${segment}]`;
    else key += i === 0 ? String(segment) : `.${String(segment)}`;
  });
  return key;
}

function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  if (isSecureValue(value)) return "[secure value]";
  const text = JSON.stringify(value);
  // Whatever field it sits in, a value that looks like a secret is never repeated.
  if (secretLikeReason(text)) return "[value not shown: it looks like a secret]";
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** What a user should have written, for values YAML read as something else. */
const EXAMPLES: Record<string, string> = {
  "castle:kubernetesVersion": "1.36.3",
  "castle:talos.version": "v1.13.9",
  "castle:talos.contract": "v1.13",
  "castle:eso.chartVersion": "2.9.0",
};

function kindOf(value: unknown): string {
  if (value === null) return "null (an empty value)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "number") return Number.isInteger(value) ? "a whole number" : "a number";
  if (typeof value === "boolean") return "true/false";
  return `a ${typeof value}`;
}

const EXPECTED: Record<string, string> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "a map of keys",
};

/** What a whole-number key counts, for a value written with a unit (`memoryMiB: 4G`). */
const NUMBER_EXAMPLES: Record<string, string> = {
  memoryMiB: "the memory in MiB, such as 4096",
  diskGiB: "the disk size in GiB, such as 32",
  cores: "the number of cores, such as 2",
  vmId: "the Proxmox VM ID, such as 2011",
};

/** The schema's verdict on `value` at `path` of `raw`: undefined when valid there, else the message. */
function verdictAt(raw: Record<string, unknown>, path: readonly PropertyKey[], value: unknown): string | undefined {
  const copy = structuredClone(raw) as Record<string | number, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const segment of path.slice(0, -1)) at = at[segment as string | number] as Record<string | number, unknown>;
  at[path.at(-1) as string | number] = value;
  const result = CastleConfigSchema.safeParse(copy);
  const issue = result.success
    ? undefined
    : result.error.issues.find((i) => i.path.length === path.length && i.path.every((p, n) => p === path[n]));
  return issue?.message;
}

/** A zod issue in plain words, without the value (the caller adds it). */
function plainMessage(issue: core.$ZodIssue, key: string, input: unknown, read: ReadContext): string {
  // A message the schema wrote itself is kept: only zod's generic English is rephrased.
  // Pulumi hands a top-level value over as text, so `kubernetesVersion: 1.36` arrives as "1.36": say why.
  if (issue.code === "invalid_format" && typeof input === "string" && /^-?\d+(\.\d+)?$/.test(input) && EXAMPLES[key]) {
    return `${issue.message}; unquoted, YAML reads ${input} as a number and drops what follows: write it in full, quoted, as "${EXAMPLES[key]}"`;
  }
  const yamlTypo = issue.code === "invalid_type" && issue.expected === "string" && typeof input !== "string";
  if (!yamlTypo && !/^(Invalid input|Too small|Too big|Invalid option)/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case "invalid_type": {
      if (issue.expected === "string" && (typeof input === "number" || typeof input === "boolean")) {
        // "Quote it" only when the quoted value is valid; otherwise what would be. The text is as written
        // (`012`, not the 12 YAML made of it).
        const quoted = read.written?.get(writtenKey(issue.path)) ?? String(input);
        const verdict = verdictAt(read.raw, issue.path, quoted);
        if (verdict === undefined) return `YAML read ${kindOf(input)}, not text; quote it as "${quoted}"`;
        const example = EXAMPLES[key];
        return `YAML read ${kindOf(input)}, not text, and "${quoted}" would not do either: ${example ? `write it in full, quoted, as "${example}"` : verdict}`;
      }
      if (typeof input === "string" && ["number", "int", "boolean"].includes(issue.expected)) {
        const looksRight = issue.expected === "boolean" ? /^(true|false)$/.test(input) : /^-?\d+(\.\d+)?$/.test(input);
        if (looksRight) return `is text (in quotes); expected ${EXPECTED[issue.expected]}, written without quotes`;
        const leaf = String(issue.path.at(-1));
        const hint = issue.expected !== "boolean" && NUMBER_EXAMPLES[leaf] ? `: write ${NUMBER_EXAMPLES[leaf]}` : "";
        return `is text; expected ${EXPECTED[issue.expected]}${hint}`;
      }
      return `is ${kindOf(input)}; expected ${EXPECTED[issue.expected] ?? issue.expected}`;
    }
    case "too_small":
      if (issue.origin === "array") return `needs at least ${issue.minimum} entr${issue.minimum === 1 ? "y" : "ies"}`;
      if (issue.origin === "string") return "must not be empty";
      return issue.inclusive ? `must be at least ${issue.minimum}` : `must be more than ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "array") return `has too many entries (at most ${issue.maximum})`;
      return `must be at most ${issue.maximum}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => String(v)).join(", ")}`;
    default:
      return issue.message;
  }
}

/** The keys the schema knows in the map at `path` (list indexes walk into the list's items). */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  type Def = { type: string; shape?: Record<string, unknown>; innerType?: unknown; element?: unknown; in?: unknown };
  let schema: unknown = CastleConfigSchema;
  const def = (s: unknown) => (s as { _zod: { def: Def } })._zod.def;
  const unwrap = (s: unknown): unknown => {
    const d = def(s);
    if (d.innerType) return unwrap(d.innerType);
    if (d.type === "pipe" && d.in) return unwrap(d.in);
    return s;
  };
  for (const segment of path) {
    const d = def(unwrap(schema));
    if (typeof segment === "number" && d.type === "array") schema = d.element;
    else if (typeof segment === "string" && d.type === "object" && d.shape?.[segment]) schema = d.shape[segment];
    else return [];
  }
  const d = def(unwrap(schema));
  return d.type === "object" && d.shape ? Object.keys(d.shape) : [];
}

/** "unknown key", with the known key it most likely misspells. */
function unknownKeyMessage(path: readonly PropertyKey[], key: string): string {
  const suggestion = closestName(key, knownKeysAt(path));
  return suggestion ? `unknown key; did you mean ${suggestion}?` : "unknown key (misspelt?); remove or rename it";
}

const startsWith = (path: readonly PropertyKey[], prefix: ValuePath) =>
  prefix.length <= path.length && prefix.every((p, i) => path[i] === p);

/** What the messages may look at besides the issue: the whole raw config, and numbers as written. */
interface ReadContext {
  raw: Record<string, unknown>;
  written?: WrittenNumbers;
}

function problemsFromIssues(issues: core.$ZodIssue[], read: ReadContext, hidden: ValuePath[] = []): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const isHidden = (path: readonly PropertyKey[]) => hidden.some((h) => startsWith(path, h));
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        if (isHidden([...issue.path, key])) continue;
        problems.push({
          key: configKey([...issue.path, key]),
          message: unknownKeyMessage(issue.path, key),
        });
      }
      continue;
    }
    if (isHidden(issue.path)) continue;
    const input = (issue as { input?: unknown }).input;
    if (issue.code === "invalid_type" && input === undefined) {
      problems.push({ key: configKey(issue.path), message: `is required (expected ${issue.expected})` });
      continue;
    }
    // Cross-field rules already quote the values they talk about.
    // Value kinds (value-kinds.ts) never quote the value: they say what in it is not allowed.
    const written = typeof input === "number" ? read.written?.get(writtenKey(issue.path)) : undefined;
    const prefix =
      isUnquotedIssue(issue) || (issue.code === "custom" && issue.path.length > 0 && input === undefined)
        ? ""
        : `${written ?? describeValue(input)}: `;
    problems.push({
      key: configKey(issue.path),
      message: `${prefix}${plainMessage(issue, configKey(issue.path), input, read)}`,
    });
  }
  return problems;
}

/** What the caller knows of a stack beyond its `castle:` keys, for the pasted-secret rules. */
export interface StackContext {
  /** Keys of other namespaces in the stack file, full name. */
  foreign?: Record<string, unknown>;
  /** Top-level `castle:` keys Pulumi holds as secure. */
  secureKeys?: ReadonlySet<string>;
  /** Problems found while reading the file (duplicate keys). */
  problems?: ConfigProblem[];
  /** Numbers whose text in the stack file is not the number YAML made of it (`012`), for messages. */
  written?: WrittenNumbers;
}

/**
 * Where a number's text in the stack file differs from the number read (`012` is 12 to YAML 1.2, 10 to
 * the Pulumi CLI's YAML 1.1 reader), keyed by `writtenKey` of its path below `castle:`: so a message
 * quotes what was written.
 */
export type WrittenNumbers = ReadonlyMap<string, string>;

function writtenKey(path: readonly PropertyKey[]): string {
  return JSON.stringify(path.map((p) => (typeof p === "number" ? p : String(p))));
}

/** The numbers of a stack file's `castle:` keys written otherwise than YAML reads them back. */
export function writtenNumbers(source: string): WrittenNumbers {
  const found = new Map<string, string>();
  const document = parseDocument(source);
  if (document.errors.length > 0) return found;
  const walk = (node: unknown, path: (string | number)[]) => {
    if (isScalar(node)) {
      const text = node.source;
      if (
        typeof node.value === "number" &&
        node.type === "PLAIN" &&
        text !== undefined &&
        text !== String(node.value)
      ) {
        found.set(writtenKey(path), text);
      }
    } else if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        walk(item, [...path, i]);
      });
    }
  };
  const config = document.get("config", true);
  if (isMap(config)) {
    for (const pair of config.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (key.includes(":") && !key.startsWith(`${CASTLE_NAMESPACE}:`)) continue;
      walk(pair.value, [key.replace(`${CASTLE_NAMESPACE}:`, "")]);
    }
  }
  return found;
}

/**
 * Validates the `castle:` keys of one stack (key names without the `castle:` prefix).
 * Throws a CastleConfigError listing every problem.
 */
export function parseCastleConfig(
  stack: string,
  source: string,
  raw: Record<string, unknown>,
  context: StackContext = {},
): CastleConfig {
  const result = CastleConfigSchema.safeParse(raw, { reportInput: true });
  const issues = result.success ? [] : result.error.issues;
  // A misspelt key (secretPth) is reported as one, with the key it misspells, not as a pasted secret.
  const unknownKeys = issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys
          .filter((key) => closestName(key, knownKeysAt(issue.path)) === undefined)
          .map((key) => [...issue.path, key] as ValuePath)
      : [],
  );
  const secrets = pastedSecrets({ castle: raw, foreign: context.foreign, unknownKeys, secureKeys: context.secureKeys });
  const problems = [...(context.problems ?? [])];
  for (const secret of secrets) {
    problems.push({
      key: secret.foreign ? secret.path.map(String).join(".") : configKey(secret.path),
      message: secret.message,
    });
  }
  problems.push(
    ...problemsFromIssues(
      issues,
      { raw, written: context.written },
      secrets.filter((s) => !s.foreign).map((s) => s.path),
    ),
  );
  const ruleIssues = [
    ...topologyIssues(result.success ? topologyOf(result.data) : lenientTopology(raw)),
    ...settingsIssues(
      result.success
        ? result.data
        : {
            proxmox: valid(ProxmoxSchema, raw.proxmox),
            eso: valid(EsoSchema, raw.eso),
            infisical: valid(InfisicalSchema, raw.infisical),
          },
    ),
    ...gitopsIssues(result.success ? result.data.gitops : valid(GitOpsSchema, raw.gitops), {
      castle: result.success ? result.data.infisical.secretPath : valid(InfisicalSchema, raw.infisical)?.secretPath,
      cluster: result.success ? result.data.eso.secretsPath : valid(EsoSchema, raw.eso)?.secretsPath,
    }),
  ];
  problems.push(...ruleIssues.map((issue) => ({ key: configKey(issue.path), message: issue.message })));
  if (problems.length > 0 || !result.success) throw new CastleConfigError(stack, source, problems);
  return result.data;
}

function topologyOf(config: CastleConfig): TopologyLike {
  return {
    network: config.network,
    proxmoxNodes: config.proxmox.nodes,
    controlPlanes: config.controlPlanes,
    workers: config.workers,
    allowSchedulingOnControlPlanes: config.talos.allowSchedulingOnControlPlanes,
  };
}

/** `value` parsed by `schema`, or undefined when it is not valid on its own. */
function valid<T>(schema: z.ZodType<T>, value: unknown): T | undefined {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** The parts of an invalid stack that are valid on their own, so the cross-field rules can still run. */
function lenientTopology(raw: Record<string, unknown>): TopologyLike {
  const nodes = (value: unknown) => (Array.isArray(value) ? value.map((node) => valid(NodeSchema, node)) : []);
  return {
    network: valid(NetworkSchema, raw.network),
    proxmoxNodes: valid(ProxmoxSchema, raw.proxmox)?.nodes,
    controlPlanes: nodes(raw.controlPlanes),
    workers: nodes(raw.workers),
    allowSchedulingOnControlPlanes:
      (raw.talos as { allowSchedulingOnControlPlanes?: unknown } | undefined)?.allowSchedulingOnControlPlanes === false
        ? false
        : undefined,
  };
}

/** The castle's config namespace: the project name in Pulumi.yaml. */
export const CASTLE_NAMESPACE = "castle";

/** A stack file's `config:` split as Pulumi reads it. */
export interface StackFileKeys {
  /** The `castle:` keys, prefix removed; an unprefixed key belongs to the project's namespace. */
  castle: Record<string, unknown>;
  /** Keys of other namespaces, full name. */
  foreign: Record<string, unknown>;
  /** A key given both with and without the prefix. */
  problems: ConfigProblem[];
}

/**
 * A config value as the castle reads what Pulumi hands a program: Pulumi gives every top-level value as
 * text (a map or list as JSON text, a scalar as it is written in the stack file, quotes or not), so a map
 * or list is parsed back and anything else stays text. The program and `castle check` both read values
 * through here, so they see the same values: `"123"` and `123` are the same text to both.
 */
export function fromPulumiConfigText(text: string): unknown {
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * The `config:` map of a stack file as the Pulumi CLI hands it over: each top-level value through the text
 * Pulumi gives the program (a scalar's source text, a map or list as JSON), read back by `fromPulumiConfigText`.
 */
function configAsPulumiGivesIt(source: string): { config: Record<string, unknown> } {
  const texts = pulumiConfigTexts(source);
  return { config: Object.fromEntries(Object.entries(texts).map(([key, text]) => [key, fromPulumiConfigText(text)])) };
}

/** Each top-level key of a stack file's `config:` and the text the Pulumi CLI hands the program for it. */
export function pulumiConfigTexts(source: string): Record<string, string> {
  const document = parseDocument(source);
  if (document.errors.length > 0) throw document.errors[0];
  const config = document.get("config", true);
  const texts: Record<string, string> = {};
  if (isMap(config)) {
    for (const pair of config.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const node = pair.value;
      texts[key] = isScalar(node)
        ? (node.source ?? String(node.value ?? ""))
        : JSON.stringify((node as { toJS(doc: unknown): unknown } | null)?.toJS(document) ?? null);
    }
  }
  return texts;
}

function stackFileKeys(document: unknown): StackFileKeys {
  const found = (document as { config?: unknown } | null)?.config;
  const config = found && typeof found === "object" && !Array.isArray(found) ? (found as Record<string, unknown>) : {};
  const keys: StackFileKeys = { castle: {}, foreign: {}, problems: [] };
  const prefix = `${CASTLE_NAMESPACE}:`;
  for (const [key, value] of Object.entries(config)) {
    if (key.includes(":") && !key.startsWith(prefix)) {
      keys.foreign[key] = value;
      continue;
    }
    const name = key.startsWith(prefix) ? key.slice(prefix.length) : key;
    if (Object.hasOwn(keys.castle, name)) {
      keys.problems.push({
        key: `${prefix}${name}`,
        message: `given twice, as ${prefix}${name} and as ${name} (an unprefixed key belongs to the project namespace "${CASTLE_NAMESPACE}"); keep one`,
      });
    }
    keys.castle[name] = value;
  }
  return keys;
}

export function stackFileName(stack: string): string {
  return `Pulumi.${stack}.yaml`;
}

/** Reads the raw `castle:` keys of `Pulumi.<stack>.yaml` in `projectDir`. */
export function readStackFile(projectDir: string, stack: string): Record<string, unknown> {
  return readStackFileKeys(projectDir, stack).castle;
}

/** Reads `Pulumi.<stack>.yaml` in `projectDir`, split by namespace. */
function readStackFileKeys(projectDir: string, stack: string): StackFileKeys {
  const file = path.join(projectDir, stackFileName(stack));
  if (!existsSync(file)) {
    throw new CastleConfigError(stack, stackFileName(stack), [
      {
        key: stackFileName(stack),
        message: `no such file in ${projectDir}; stacks here: ${listStacks(projectDir).join(", ") || "none"}`,
      },
    ]);
  }
  try {
    return stackFileKeys(configAsPulumiGivesIt(readFileSync(file, "utf8")));
  } catch (error) {
    // The YAML library's message carries a code frame over several lines: keep the first.
    const [firstLine] = (error as Error).message.split("\n");
    throw new CastleConfigError(stack, stackFileName(stack), [
      { key: stackFileName(stack), message: `not valid YAML: ${firstLine.replace(/:$/, "")}` },
    ]);
  }
}

/** Stack names that have a `Pulumi.<stack>.yaml` in `projectDir`. */
export function listStacks(projectDir: string): string[] {
  return readdirSync(projectDir)
    .map((file) => /^Pulumi\.([^.]+)\.yaml$/.exec(file)?.[1])
    .filter((stack): stack is string => stack !== undefined)
    .sort();
}

/** What one stack claims, taken leniently from its raw keys (another stack may itself be invalid). */
function claimsOf(raw: Record<string, unknown>) {
  const claims: { kind: "address" | "VM ID" | "hostname" | "cluster name"; value: string; key: string }[] = [];
  const text = (value: unknown) => (typeof value === "string" || typeof value === "number" ? String(value) : undefined);
  const add = (kind: (typeof claims)[number]["kind"], value: unknown, key: string) => {
    const v = text(value);
    // A value that looks like a secret is refused by its own stack's check and never quoted here.
    if (v !== undefined && secretLikeReason(v) === undefined) claims.push({ kind, value: v, key });
  };
  add("cluster name", raw.clusterName, "castle:clusterName");
  add("address", (raw.network as { vip?: unknown } | undefined)?.vip, "castle:network.vip");
  for (const role of ["controlPlanes", "workers"] as const) {
    const nodes = Array.isArray(raw[role]) ? (raw[role] as Record<string, unknown>[]) : [];
    nodes.forEach((node, i) => {
      if (typeof node !== "object" || node === null) return;
      add("address", node.ip, configKey([role, i, "ip"]));
      add("VM ID", node.vmId, configKey([role, i, "vmId"]));
      add("hostname", node.hostname, configKey([role, i, "hostname"]));
    });
  }
  return claims;
}

/**
 * Blue/green rules: this stack's node IPs, VIP, VM IDs, hostnames and cluster name must collide with
 * nothing claimed by another stack of the project.
 */
export function crossStackProblems(
  raw: Record<string, unknown>,
  others: { stack: string; raw: Record<string, unknown> }[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const mine = claimsOf(raw);
  for (const other of others) {
    const theirs = new Map(claimsOf(other.raw).map((claim) => [`${claim.kind}=${claim.value}`, claim]));
    for (const claim of mine) {
      const clash = theirs.get(`${claim.kind}=${claim.value}`);
      if (clash) {
        problems.push({
          key: claim.key,
          message: `${claim.value} is also used by stack "${other.stack}" (${clash.key} in ${stackFileName(other.stack)}); stacks must not share addresses, VM IDs or names`,
        });
      }
    }
  }
  return problems;
}

/** A stack's Infisical coordinates, taken leniently from its raw keys; undefined parts were invalid. */
function foldersOf(raw: Record<string, unknown>) {
  const infisical = valid(InfisicalSchema, raw.infisical);
  const eso = raw.eso as { secretsPath?: unknown } | undefined;
  const clusterFolder = valid(infisicalFolder("/apps/blue"), eso?.secretsPath);
  const gitops = raw.gitops as { secretsPath?: unknown } | undefined;
  const gitopsFolder = valid(infisicalFolder("/gitops/blue"), gitops?.secretsPath);
  return {
    place: infisical
      ? `${new URL(infisical.siteUrl).origin} ${infisical.projectId} ${infisical.environment}`
      : undefined,
    castleFolder: infisical?.secretPath,
    clusterFolder,
    gitopsFolder,
  };
}

/** A stack's folders with their keys, the Git credential's marked. */
function keyedFolders(folders: ReturnType<typeof foldersOf>): { key: string; folder: string; gitops: boolean }[] {
  return [
    { key: "castle:infisical.secretPath", folder: folders.castleFolder, gitops: false },
    { key: "castle:eso.secretsPath", folder: folders.clusterFolder, gitops: false },
    { key: "castle:gitops.secretsPath", folder: folders.gitopsFolder, gitops: true },
  ].flatMap((entry) => (entry.folder === undefined ? [] : [{ ...entry, folder: entry.folder }]));
}

/**
 * The Git credential's folder across stacks of the same Infisical project and environment: this stack's
 * `castle:gitops.secretsPath` must be apart from every folder of every other stack, and this stack's
 * folders apart from every other stack's Git credential folder (both stacks then report the clash, each
 * on its own key).
 */
export function crossStackGitopsFolderProblems(
  raw: Record<string, unknown>,
  others: { stack: string; raw: Record<string, unknown> }[],
): ConfigProblem[] {
  const mine = foldersOf(raw);
  if (mine.place === undefined) return [];
  const problems: ConfigProblem[] = [];
  for (const other of others) {
    const theirs = foldersOf(other.raw);
    if (theirs.place !== mine.place) continue;
    for (const their of keyedFolders(theirs)) {
      for (const own of keyedFolders(mine)) {
        if (!own.gitops && !their.gitops) continue;
        const overlap = folderOverlap(own.folder, their.folder);
        if (overlap === undefined) continue;
        problems.push({
          key: own.key,
          message: `${own.folder} ${overlapWords(overlap)} ${their.folder}, ${their.key} of stack "${other.stack}" (${stackFileName(other.stack)}, same project and environment): a Git credential's folder is read by its own identity alone, so it must be apart from every other folder of every stack`,
        });
      }
    }
  }
  return problems;
}

/**
 * The wall between colors: this stack's cluster folder (castle:eso.secretsPath) must neither be, contain
 * nor lie inside any other stack's castle folder (castle:infisical.secretPath) of the same Infisical
 * project and environment. Green's castle folder holds green's Proxmox token (likely the same Proxmox)
 * and its secretbox key; blue's cluster must never be handed a path that reaches it.
 */
export function crossStackFolderProblems(
  raw: Record<string, unknown>,
  others: { stack: string; raw: Record<string, unknown> }[],
): ConfigProblem[] {
  const mine = foldersOf(raw);
  if (mine.place === undefined || mine.clusterFolder === undefined) return [];
  const problems: ConfigProblem[] = [];
  for (const other of others) {
    const theirs = foldersOf(other.raw);
    if (theirs.place !== mine.place || theirs.castleFolder === undefined) continue;
    const overlap = folderOverlap(mine.clusterFolder, theirs.castleFolder);
    if (overlap === undefined) continue;
    problems.push({
      key: "castle:eso.secretsPath",
      message: `${mine.clusterFolder} ${overlapWords(overlap)} the castle folder of stack "${other.stack}" (castle:infisical.secretPath ${theirs.castleFolder} in ${stackFileName(other.stack)}, same project and environment), which holds that castle's secretbox key and Proxmox token. Give this cluster a folder of its own apart from every castle folder, e.g. /apps/<color>`,
    });
  }
  return problems;
}

/**
 * The castle folders of the project's other stacks in the same Infisical project and environment as
 * `stack` (other colors), without this stack's own folder, each once: where `castle doctor` proves the
 * cluster's identity is refused.
 */
export function otherCastleFolders(projectDir: string, stack: string): { stack: string; folder: string }[] {
  const mine = foldersOf(readStackFile(projectDir, stack));
  if (mine.place === undefined) return [];
  const seen = new Set(mine.castleFolder === undefined ? [] : [mine.castleFolder]);
  const found: { stack: string; folder: string }[] = [];
  for (const other of otherStacks(projectDir, stack)) {
    const theirs = foldersOf(other.raw);
    if (theirs.place !== mine.place || theirs.castleFolder === undefined || seen.has(theirs.castleFolder)) continue;
    seen.add(theirs.castleFolder);
    found.push({ stack: other.stack, folder: theirs.castleFolder });
  }
  return found;
}

/** Raw keys of every other stack file of the project. */
function otherStacks(projectDir: string, stack: string): { stack: string; raw: Record<string, unknown> }[] {
  return listStacks(projectDir)
    .filter((other) => other !== stack)
    .flatMap((other) => {
      try {
        return [{ stack: other, raw: readStackFile(projectDir, other) }];
      } catch {
        return []; // an unreadable file is reported when that stack is checked
      }
    });
}

/**
 * Numbers written with a leading zero (`vmId: 02011`), refused: YAML readers disagree on them. This check's
 * reader (YAML 1.2) reads 02011 as 2011; the Pulumi CLI's (go-yaml v3 resolve.go: `strconv.ParseInt(plain,
 * 0, 64)`, "Octals from the 1.1 spec, spelled as 0777, are still decoded for compatibility") as octal, 1033,
 * which the program would then use. The message names both readings and what to write.
 */
export function leadingZeroProblems(written: WrittenNumbers | undefined): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [pathText, text] of written ?? []) {
    const match = /^([-+]?)0+([0-9]+)$/.exec(text);
    if (!match) continue;
    const decimal = `${match[1] === "-" ? "-" : ""}${match[2]}`;
    const octal = /^[0-7]+$/.test(match[2]) ? Number.parseInt(match[2], 8) * (match[1] === "-" ? -1 : 1) : undefined;
    const readings =
      octal === undefined
        ? "YAML 1.1 readers take such a number for octal"
        : `YAML readers read it differently: the Pulumi CLI as octal (${octal}, what pulumi up would use), this check as ${decimal}`;
    problems.push({
      key: configKey(JSON.parse(pathText) as (string | number)[]),
      message: `${text} has a leading zero; ${readings}. Write ${decimal}`,
    });
  }
  return problems;
}

/**
 * Validates a stack's raw keys, its own rules and the cross-stack rules, reporting all problems at once.
 */
export function validateStack(
  stack: string,
  source: string,
  raw: Record<string, unknown>,
  projectDir: string,
  context: StackContext = {},
): CastleConfig {
  const problems: ConfigProblem[] = [];
  let config: CastleConfig | undefined;
  try {
    config = parseCastleConfig(stack, source, raw, context);
  } catch (error) {
    if (!(error instanceof CastleConfigError)) throw error;
    problems.push(...error.problems);
  }
  const others = otherStacks(projectDir, stack);
  // A key whose value is refused already (a number where text belongs) gets that message alone.
  const refused = new Set(problems.map((problem) => problem.key));
  problems.push(
    ...leadingZeroProblems(context.written).filter((problem) => !refused.has(problem.key)),
    ...crossStackProblems(raw, others),
    ...crossStackFolderProblems(raw, others),
    ...crossStackGitopsFolderProblems(raw, others),
  );
  if (problems.length > 0 || config === undefined) throw new CastleConfigError(stack, source, problems);
  return config;
}

/** Reads and validates `Pulumi.<stack>.yaml` without the Pulumi CLI. */
export function loadStackFile(projectDir: string, stack: string): CastleConfig {
  const { castle, foreign, problems } = readStackFileKeys(projectDir, stack);
  const written = writtenNumbers(readFileSync(path.join(projectDir, stackFileName(stack)), "utf8"));
  return validateStack(stack, stackFileName(stack), castle, projectDir, { foreign, problems, written });
}
