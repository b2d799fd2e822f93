/**
 * `castle status [<stack>] [--json]`: where every stack of the project (or one) stands, from the Pulumi
 * backend: deployed or not, the last update's result and time, healthy, the API endpoint, the secretbox key
 * fingerprint and Talos contract, the Talos and Kubernetes versions. It reads with `--stack` (never
 * `stack select`), never with `--show-secrets`, and each read has a deadline. A stack whose status cannot
 * be read says why, with `deployed: null`; it is never shown as "not deployed".
 */
import { listStacks } from "../config/load";
import { STACK_OUTPUTS } from "../lib/stack-outputs";
import { formatTable } from "./check";

/** What the backend knows of one stack. */
export interface StackState {
  stack: string;
  /** The project has a Pulumi.<stack>.yaml. */
  stackFile: boolean;
  /** The backend has the stack; null when the backend could not be read. */
  inBackend: boolean | null;
  /** It has resources; null when that could not be read (see `error`). */
  deployed: boolean | null;
  /** The last operation (update, destroy, refresh...), its result and when it ended (or started). */
  lastUpdate?: { kind: string; result: string; time: string };
  /** The last operation succeeded and the cluster reported healthy; null when that could not be read. */
  healthy: boolean | null;
  endpoint?: string;
  fingerprint?: string;
  contract?: string;
  talosVersion?: string;
  kubernetesVersion?: string;
  /** Why the stack's status could not be read. */
  error?: string;
}

/** One stack of the backend's list. */
export interface BackendStack {
  name: string;
  resourceCount?: number;
}

/** One entry of `pulumi stack history --json`. */
export interface HistoryEntry {
  kind: string;
  result: string;
  startTime?: string | Date;
  endTime?: string | Date;
  config?: Record<string, { value?: string; secret?: boolean }>;
}

/** What status reads from the backend, so it can be tested without a Pulumi CLI. */
export interface StatusReader {
  list(): Promise<BackendStack[]>;
  /** Outputs with secrets masked. */
  outputs(stack: string): Promise<Record<string, unknown>>;
  /** The newest history entry, undefined when there is none. */
  lastUpdate(stack: string): Promise<HistoryEntry | undefined>;
}

/**
 * The real reader: `pulumi stack ls --json`, `pulumi stack output --json --stack <s>` and
 * `pulumi stack history --json --page-size 1 --page 1 --stack <s>`, each within the deadline
 * (`CASTLE_PULUMI_TIMEOUT` seconds, default 60).
 */
export async function cliStatusReader(projectDir: string, env: NodeJS.ProcessEnv = process.env): Promise<StatusReader> {
  const { pulumiReadTimeoutMs, pulumiReads } = require("./pulumi-cli") as typeof import("./pulumi-cli");
  const reads = pulumiReads(projectDir, pulumiReadTimeoutMs(env));
  return {
    list: () => reads.listStacks(),
    outputs: (stack) => reads.outputs(stack),
    async lastUpdate(stack) {
      const [last] = await reads.history(stack);
      return last as HistoryEntry | undefined;
    },
  };
}

const text = (value: unknown) => (typeof value === "string" && value !== "[secret]" ? value : undefined);

/** A config value of the last update: plain text, or a field of a structured key's JSON. */
function configValue(entry: HistoryEntry | undefined, key: string, field?: string): string | undefined {
  const raw = entry?.config?.[key];
  if (!raw || raw.secret || typeof raw.value !== "string") return undefined;
  if (field === undefined) return raw.value;
  try {
    return text((JSON.parse(raw.value) as Record<string, unknown>)[field]);
  } catch {
    return undefined;
  }
}

function time(value: string | Date | undefined): string {
  if (value === undefined) return "";
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().replace(/\.\d+Z$/, "Z");
}

/** The state of one stack the backend has. */
export async function stackState(reader: StatusReader, stack: BackendStack, stackFile: boolean): Promise<StackState> {
  const state: StackState = { stack: stack.name, stackFile, inBackend: true, deployed: null, healthy: null };
  try {
    const [outputs, last] = await Promise.all([reader.outputs(stack.name), reader.lastUpdate(stack.name)]);
    state.deployed = stack.resourceCount !== undefined ? stack.resourceCount > 0 : Object.keys(outputs).length > 0;
    if (last) {
      state.lastUpdate = { kind: last.kind, result: last.result, time: time(last.endTime ?? last.startTime) };
    }
    state.healthy = state.deployed && last?.result === "succeeded" && outputs[STACK_OUTPUTS.clusterHealthy] === true;
    if (state.deployed) {
      state.endpoint = text(outputs[STACK_OUTPUTS.endpoint]);
      state.fingerprint = text(outputs[STACK_OUTPUTS.secretboxKeyFingerprint]);
      state.contract = text(outputs[STACK_OUTPUTS.talosContract]) ?? configValue(last, "castle:talos", "contract");
      state.talosVersion = text(outputs[STACK_OUTPUTS.talosVersion]) ?? configValue(last, "castle:talos", "version");
      state.kubernetesVersion =
        text(outputs[STACK_OUTPUTS.kubernetesVersion]) ?? configValue(last, "castle:kubernetesVersion");
    }
  } catch (error) {
    return {
      stack: stack.name,
      stackFile,
      inBackend: true,
      deployed: null,
      healthy: null,
      error: (error as Error).message,
    };
  }
  return state;
}

/** Each stack's status as unknown, saying why: never read as "not deployed". */
function unknownStates(stacks: string[], files: string[], error: string): StackState[] {
  return stacks.map((stack) => ({
    stack,
    stackFile: files.includes(stack),
    inBackend: null,
    deployed: null,
    healthy: null,
    error,
  }));
}

/** Every stack of the project (those with a stack file and those the backend has), or only `only`. */
async function projectStatus(projectDir: string, reader: StatusReader, only?: string): Promise<StackState[]> {
  const files = listStacks(projectDir);
  let backend: BackendStack[];
  try {
    backend = await reader.list();
  } catch (error) {
    return unknownStates(only ? [only] : files, files, `cannot list the stacks: ${(error as Error).message}`);
  }
  // The backend names stacks `name` or `org/name` (Pulumi Cloud): the last part is the stack.
  const byName = new Map(backend.map((s) => [s.name.split("/").pop() ?? s.name, s]));
  const names = only ? [only] : [...new Set([...files, ...byName.keys()])].sort();
  return Promise.all(
    names.map((name) => {
      const found = byName.get(name);
      if (!found) {
        return { stack: name, stackFile: files.includes(name), inBackend: false, deployed: false, healthy: false };
      }
      return stackState(reader, { ...found, name }, files.includes(name));
    }),
  );
}

/** The table for the terminal; errors below it, one line each. */
function statusTable(states: StackState[]): string[] {
  const header = [
    "stack",
    "deployed",
    "last update",
    "healthy",
    "endpoint",
    "talos",
    "kubernetes",
    "contract",
    "key fingerprint",
  ];
  const rows = states.map((s) => {
    if (s.error) return [s.stack, "unknown", "", "unknown", "", "", "", "", ""];
    const last = s.lastUpdate ? `${s.lastUpdate.kind} ${s.lastUpdate.result} ${s.lastUpdate.time}` : "never";
    return [
      s.stack + (s.stackFile ? "" : " (no stack file)"),
      s.inBackend ? (s.deployed ? "yes" : "no") : "no (not in backend)",
      last,
      s.deployed ? (s.healthy ? "yes" : "no") : "-",
      s.endpoint ?? "-",
      s.talosVersion ?? "-",
      s.kubernetesVersion ?? "-",
      s.contract ?? "-",
      s.fingerprint ?? "-",
    ];
  });
  return [
    ...formatTable(header, rows),
    ...states.filter((s) => s.error).map((s) => `${s.stack}: status unknown: ${s.error}`),
  ];
}

export interface StatusIo {
  out(line: string): void;
  err(line: string): void;
}

/**
 * Exit code 0 when every stack's status was read, 1 when any could not be (or `only` is a stack neither
 * the project nor the backend has).
 */
export async function status(
  projectDir: string,
  flags: { json: boolean; only?: string },
  reader: StatusReader | (() => Promise<StatusReader>),
  io: StatusIo,
): Promise<number> {
  const files = listStacks(projectDir);
  let states: StackState[];
  try {
    const ready = typeof reader === "function" ? await reader() : reader;
    states = await projectStatus(projectDir, ready, flags.only);
  } catch (error) {
    // No CLI at all: every stack's status is unknown.
    const message = (error as Error).message;
    states = unknownStates(flags.only ? [flags.only] : files, files, message);
    if (states.length === 0) {
      io.err(`castle status: ${message}`);
      return 1;
    }
  }
  const [one] = states;
  if (flags.only && one && !one.stackFile && one.inBackend === false) {
    io.err(
      `castle status: no stack "${flags.only}": the project has no Pulumi.${flags.only}.yaml and the backend has no such stack (castle status lists them)`,
    );
    return 1;
  }
  if (flags.json) io.out(JSON.stringify(states, null, 2));
  else for (const line of statusTable(states)) io.out(line);
  return states.some((s) => s.error) ? 1 : 0;
}
