/**
 * The castle's recording mock runtime: runs the program under Pulumi's mock monitor (no engine, no
 * providers, no network) and records every registered resource (type, name, parent, dependencies,
 * provider and inputs, with secret markers kept visible) and every invoke. It throws on an invoke
 * token it was not told about, so a misspelt token fails instead of returning nothing.
 *
 * What it answers is the harness's own, not a provider's: a resource's state is its inputs (assumed for
 * every provider; offline-provider.ts overrides what the program reads back, each with its source) and
 * its ID `<name>-id`; an invoke answers only what it is given.
 *
 * Used by the tests (tests/support), by `castle render` and by the deployment benchmark.
 * Call `startMocks()` before a dynamic `import()` of the program code.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
  /** Order in which the mock saw this registration, shared with invokes. */
  seq: number;
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  /** `type::name` of the parent, when the parent is not the stack. */
  parent?: string;
  /** URNs this resource waits for (explicit `dependsOn` and the resources its inputs came from). */
  dependencies: string[];
  /** URN::id reference of the explicit provider, if any. */
  provider?: string;
  /** URN of the `deletedWith` target, if any: the engine skips this resource's delete when that target is deleted too. */
  deletedWith?: string;
  /** How many of its aliases say "no parent before" (a resource moved under a component). */
  noParentAliases?: number;
  /** Property paths whose change replaces the resource (`replaceOnChanges`), when any. */
  replaceOnChanges?: string[];
  /** Whether a replacement deletes the old object before creating the new one. */
  deleteBeforeReplace?: boolean;
  /** Inputs as the engine would receive them; a secret value stays wrapped (see `isSecretMarked`). */
  inputs: Record<string, unknown>;
}

export interface RecordedInvoke {
  /** Order in which the mock saw this invoke, shared with resources. */
  seq: number;
  token: string;
  inputs: Record<string, unknown>;
}

/** What a mocked resource returns as its state, given its inputs. Default: its inputs (secrets stay secret). */
export type StateFn = (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown> | undefined;
/** What a mocked invoke returns. */
export type InvokeFn = (inputs: Record<string, unknown>) => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface MockOptions {
  project?: string;
  stack?: string;
  preview?: boolean;
  /** Stack config, keys with namespace (`castle:clusterName`), values as Pulumi passes them (strings). */
  config?: Record<string, string>;
  /** Invoke results per token. An invoke whose token is missing here throws. */
  invokes?: Record<string, InvokeFn>;
  /** Extra state per resource type token, merged over the inputs. */
  states?: Record<string, StateFn>;
  /** Resource ID per type token. Default `<name>-id`. */
  ids?: Record<string, (args: pulumi.runtime.MockResourceArgs) => string>;
  /** Called before a resource or invoke answers, e.g. to model latency. */
  delay?: (kind: "resource" | "invoke", token: string) => Promise<void> | void;
}

export interface Harness {
  resources: RecordedResource[];
  invokes: RecordedInvoke[];
  /** Invoke tokens that were called without a declared result (each call failed). */
  unexpectedInvokes: string[];
  /** All resources of a type token. */
  ofType(type: string): RecordedResource[];
  /** The one resource with this type and name; throws listing what exists when there is none. */
  get(type: string, name: string): RecordedResource;
  /** The resource behind a URN. */
  byUrn(urn: string): RecordedResource;
  /** Whether `resource` waits (directly or through others) on `on`. */
  dependsOn(resource: RecordedResource, on: RecordedResource): boolean;
}

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";

/** Whether a recorded input value carries the secret marker. */
export function isSecretMarked(value: unknown): boolean {
  return pulumi.runtime.isRpcSecret(value);
}

/** A recorded value with every secret marker removed (for comparing content). */
export function unwrapSecrets(value: unknown): unknown {
  if (isSecretMarked(value)) return unwrapSecrets(pulumi.runtime.unwrapRpcSecret(value));
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/**
 * Paths of the places in a recorded value where `needle` appears in a string that is NOT inside a
 * secret marker. An empty answer means: wherever the needle is, it is secret.
 */
export function plaintextOccurrences(value: unknown, needle: string, path = "$"): string[] {
  if (isSecretMarked(value)) return [];
  if (typeof value === "string") return value.includes(needle) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => plaintextOccurrences(v, needle, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) =>
      k === SECRET_SIG_KEY ? [] : plaintextOccurrences(v, needle, `${path}.${k}`),
    );
  }
  return [];
}

function typeAndName(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  return { type: (parts[2] ?? "").split("$").pop() ?? "", name: parts.slice(3).join("::") };
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
  getProvider(): string;
  getDeletedwith(): string;
  getAliasesList(): { getSpec(): { getNoparent(): boolean } | undefined }[];
  getReplaceonchangesList(): string[];
  getDeletebeforereplace(): boolean;
}

export function startMocks(options: MockOptions = {}): Harness {
  const stack = options.stack ?? "test";
  const project = options.project ?? "castle";
  const resources: RecordedResource[] = [];
  const invokes: RecordedInvoke[] = [];
  const unexpectedInvokes: string[] = [];
  let seq = 0;
  const pending = new Map<
    string,
    {
      parent?: string;
      dependencies: string[];
      custom: boolean;
      provider?: string;
      deletedWith?: string;
      noParentAliases?: number;
      replaceOnChanges?: string[];
      deleteBeforeReplace?: boolean;
    }
  >();
  const canonicalUrn = (urn: string) => {
    const { type, name } = typeAndName(urn);
    return `urn:pulumi:${stack}::${project}::${type}::${name}`;
  };

  if (options.config) pulumi.runtime.setAllConfig(options.config);

  pulumi.runtime.setMocks(
    {
      async newResource(args) {
        const key = `${args.type}::${args.name}`;
        const meta = pending.get(key);
        const urn = `urn:pulumi:${stack}::${project}::${args.type}::${args.name}`;
        resources.push({
          seq: seq++,
          urn,
          type: args.type,
          name: args.name,
          custom: meta?.custom ?? args.custom ?? true,
          parent: meta?.parent,
          dependencies: meta?.dependencies ?? [],
          provider: meta?.provider,
          deletedWith: meta?.deletedWith,
          noParentAliases: meta?.noParentAliases,
          replaceOnChanges: meta?.replaceOnChanges,
          deleteBeforeReplace: meta?.deleteBeforeReplace,
          inputs: args.inputs,
        });
        await options.delay?.("resource", args.type);
        const extra = options.states?.[args.type]?.(args) ?? {};
        const id = options.ids?.[args.type]?.(args) ?? `${args.name}-id`;
        return { id: args.custom === false ? "" : id, state: { ...args.inputs, ...extra } };
      },
      async call(args) {
        invokes.push({ seq: seq++, token: args.token, inputs: args.inputs });
        await options.delay?.("invoke", args.token);
        const fn = options.invokes?.[args.token];
        if (!fn) {
          // The SDK drops this message on its way back to the caller, so it is also kept for assertions.
          unexpectedInvokes.push(args.token);
          throw new Error(`unexpected invoke ${args.token}: the test harness has no result for it`);
        }
        return fn(args.inputs);
      },
    },
    project,
    stack,
    options.preview ?? false,
    "organization", // what a DIY backend calls every stack's organization
  );

  /** The harness's URN of a resource: its own type and name, without the parent chain. */
  // Capture what the mock's newResource does not see: parent, dependencies, provider, deletedWith.
  // biome-ignore lint/suspicious/noExplicitAny: the monitor is the SDK's internal gRPC client.
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: RegisterRequest, callback: unknown) => {
    const parentUrn = req.getParent();
    const parent = parentUrn && !parentUrn.includes("::pulumi:pulumi:Stack::") ? typeAndName(parentUrn) : undefined;
    pending.set(`${req.getType()}::${req.getName()}`, {
      parent: parent ? `${parent.type}::${parent.name}` : undefined,
      dependencies: req.getDependenciesList().map(canonicalUrn),
      custom: req.getCustom(),
      provider: req.getProvider() || undefined,
      deletedWith: req.getDeletedwith() ? canonicalUrn(req.getDeletedwith()) : undefined,
      noParentAliases:
        req.getAliasesList().filter((alias) => alias.getSpec()?.getNoparent() === true).length || undefined,
      replaceOnChanges: req.getReplaceonchangesList().length > 0 ? req.getReplaceonchangesList() : undefined,
      deleteBeforeReplace: req.getDeletebeforereplace() || undefined,
    });
    return register(req, callback);
  };

  const harness: Harness = {
    resources,
    invokes,
    unexpectedInvokes,
    ofType: (type) => resources.filter((r) => r.type === type),
    get(type, name) {
      const found = resources.find((r) => r.type === type && r.name === name);
      if (!found) {
        const names = harness.ofType(type).map((r) => r.name);
        throw new Error(`no ${type} named ${name}; registered: ${names.join(", ") || "none"}`);
      }
      return found;
    },
    byUrn(urn) {
      const found = resources.find((r) => r.urn === urn);
      if (!found) throw new Error(`no resource with URN ${urn}`);
      return found;
    },
    dependsOn(resource, on) {
      const seen = new Set<string>();
      const walk = (r: RecordedResource): boolean => {
        for (const dep of r.dependencies) {
          if (dep === on.urn) return true;
          if (seen.has(dep)) continue;
          seen.add(dep);
          const next = resources.find((x) => x.urn === dep);
          if (next && walk(next)) return true;
        }
        return false;
      };
      return walk(resource);
    },
  };
  return harness;
}

/**
 * Runs `run` (a program run under the mocks, up to its `settle()`) with source-mapped stack traces
 * off, and puts them back as they were after. Pulumi's SDK records a stack trace for every promise it
 * makes, for its leak report (`debuggablePromise`); with source maps on, as the TypeScript loader sets
 * them, formatting those traces costs about a seventh of a run's CPU time. An error made during the run is still
 * mapped when its stack is read after: V8 formats a stack on first read.
 */
export async function withoutSourceMaps<T>(run: () => Promise<T>): Promise<T> {
  const sourceMaps = process.sourceMapsEnabled;
  process.setSourceMapsEnabled(false);
  try {
    return await run();
  } finally {
    process.setSourceMapsEnabled(sourceMaps);
  }
}

/** Waits until every registration and output resolution in flight has finished. */
export async function settle(): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: waitForRPCs is exported by the SDK's settings module but not typed.
  const settings = require("@pulumi/pulumi/runtime/settings") as any;
  await settings.waitForRPCs();
}

/** The resolved value of an Output (or plain value), for assertions. */
export function resolved<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}
