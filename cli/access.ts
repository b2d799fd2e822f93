/**
 * `castle kubeconfig <stack> [--out FILE]` and `castle talosconfig <stack> [--out FILE]`: the stack's
 * admin kubeconfig or talosconfig, read from its secret outputs through the Pulumi CLI, written with
 * mode 0600 (a folder it creates gets 0700). The path is printed, never the content; `--out -` writes the
 * content to standard output for piping.
 *
 * A file is overwritten only when this command wrote it (it starts with the marker line below): a
 * kubeconfig or talosconfig the user keeps at that path stays as it is. `--merge` adds the castle's
 * entries to the user's own `~/.kube/config` or `~/.talos/config` instead (merge-config.ts), still 0600,
 * never through a symbolic link.
 */
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  type Stats,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { STACK_OUTPUTS } from "../lib/stack-outputs";

export type AccessKind = "kubeconfig" | "talosconfig";

/** The stack output each command reads. */
const ACCESS_OUTPUT: Record<AccessKind, string> = {
  kubeconfig: STACK_OUTPUTS.kubeconfig,
  talosconfig: STACK_OUTPUTS.talosconfig,
};

/** First line of every file written here (a YAML comment: kubectl and talosctl ignore it). */
const ACCESS_MARKER = "# written by castle";

/** Where the file goes without --out: beside the tools' own folders, never over their default file. */
function defaultAccessPath(kind: AccessKind, stack: string, home: string): string {
  return kind === "kubeconfig"
    ? path.join(home, ".kube", `castle-${stack}.yaml`)
    : path.join(home, ".talos", `castle-${stack}.yaml`);
}

export interface AccessIo {
  out(line: string): void;
  err(line: string): void;
  /** Writes text to standard output as it is (for `--out -`). */
  write(text: string): void;
  env: NodeJS.ProcessEnv;
}

/** Reads a stack's outputs, secrets in clear. */
export type OutputsReader = (stack: string) => Promise<Record<string, unknown>>;

/** The file `--merge` merges into without --out: the tools' own default file. */
function defaultMergePath(kind: AccessKind, home: string): string {
  return kind === "kubeconfig" ? path.join(home, ".kube", "config") : path.join(home, ".talos", "config");
}

/** Creates the missing folders of `dir` with mode 0700. */
function makeFolder(dir: string): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !existsSync(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    mkdirSync(d, { mode: 0o700 });
    chmodSync(d, 0o700); // the umask may have taken bits away; 0700 exactly
  }
}

/** Writes `content` to `file` with mode 0600, through a temporary file in the same folder. */
function writePrivateFile(file: string, content: string): void {
  makeFolder(path.dirname(file));
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode: 0o600, flag: "wx" });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

export async function access(
  kind: AccessKind,
  projectDir: string,
  stack: string,
  out: string | undefined,
  readOutputs: OutputsReader,
  io: AccessIo,
  options: { merge?: boolean } = {},
): Promise<number> {
  const home = io.env.HOME || homedir();
  const stackFile = path.join(projectDir, `Pulumi.${stack}.yaml`);
  if (!existsSync(stackFile) && !existsSync(path.join(projectDir, `Pulumi.${stack}.yml`))) {
    io.err(
      `castle ${kind}: no stack file ${stackFile}: is "${stack}" the stack's name? (castle status lists the stacks)`,
    );
    return 1;
  }
  if (options.merge) return mergeAccess(kind, stack, out ?? defaultMergePath(kind, home), readOutputs, io);
  const target = out === "-" ? "-" : path.resolve(projectDir, out ?? defaultAccessPath(kind, stack, home));
  if (target !== "-" && existsSync(target) && statSync(target).isDirectory()) {
    io.err(`castle ${kind}: ${target} is a folder; give a file path with --out`);
    return 1;
  }
  if (target !== "-" && existsSync(target)) {
    const first = readFileSync(target, "utf8").split("\n", 1)[0];
    if (!first.startsWith(ACCESS_MARKER)) {
      io.err(
        `castle ${kind}: ${target} exists and was not written by castle; it is left as it is. Choose another path with --out, or move that file away`,
      );
      return 1;
    }
  }
  const content = await accessContent(kind, stack, readOutputs, io);
  if (content === undefined) return 1;
  if (target === "-") {
    io.write(content);
    return 0;
  }
  writePrivateFile(target, `${ACCESS_MARKER} ${kind} ${stack}; do not share: it grants admin access\n${content}`);
  io.out(target);
  if (kind === "kubeconfig") io.err(`use it with: export KUBECONFIG=${target}`);
  else io.err(`use it with: export TALOSCONFIG=${target}`);
  return 0;
}

/** The kubeconfig or talosconfig from the stack's outputs, ending in a newline; undefined after saying why not. */
async function accessContent(
  kind: AccessKind,
  stack: string,
  readOutputs: OutputsReader,
  io: AccessIo,
): Promise<string | undefined> {
  let outputs: Awaited<ReturnType<OutputsReader>>;
  try {
    outputs = await readOutputs(stack);
  } catch (error) {
    io.err(`castle ${kind} ${stack}: cannot read the stack's outputs: ${(error as Error).message}`);
    return undefined;
  }
  const value = outputs[ACCESS_OUTPUT[kind]];
  if (typeof value !== "string" || value.trim() === "") {
    io.err(
      `castle ${kind} ${stack}: the stack has no ${ACCESS_OUTPUT[kind]} output; it is not deployed or its last update did not finish. Run npx castle up ${stack} (castle status shows where it stands)`,
    );
    return undefined;
  }
  return value.endsWith("\n") ? value : `${value}\n`;
}

/** `--merge`: the castle's entries into the user's own config file, everything else left as it was. */
async function mergeAccess(
  kind: AccessKind,
  stack: string,
  file: string,
  readOutputs: OutputsReader,
  io: AccessIo,
): Promise<number> {
  const { MergeRefusal, mergeKubeconfig, mergeTalosconfig } =
    require("./merge-config") as typeof import("./merge-config");
  if (file === "-") {
    io.err(`castle ${kind}: --merge writes into a file; --out - prints a separate ${kind} instead`);
    return 2;
  }
  const target = path.resolve(file);
  let existing: string | undefined;
  const found = lstatIfAny(target);
  if (found?.isSymbolicLink()) {
    io.err(
      `castle ${kind}: ${target} is a symbolic link; castle does not write through links. Give the file it points to with --out, or write a separate file without --merge`,
    );
    return 1;
  }
  if (found && !found.isFile()) {
    io.err(`castle ${kind}: ${target} is not a regular file; give a file path with --out`);
    return 1;
  }
  if (found) existing = readFileSync(target, "utf8");
  const content = await accessContent(kind, stack, readOutputs, io);
  if (content === undefined) return 1;
  let merged: ReturnType<typeof mergeKubeconfig>;
  try {
    merged = (kind === "kubeconfig" ? mergeKubeconfig : mergeTalosconfig)(existing, content, stack, target);
  } catch (error) {
    if (!(error instanceof MergeRefusal)) throw error;
    io.err(`castle ${kind} ${stack}: ${error.message}`);
    return 1;
  }
  writePrivateFile(target, merged.text);
  io.out(target);
  const use =
    kind === "kubeconfig"
      ? `kubectl --context ${merged.context} (or kubectl config use-context ${merged.context})`
      : `talosctl --context ${merged.context} (or talosctl config context ${merged.context})`;
  io.err(
    `merged context ${merged.context}${merged.madeCurrent ? ", now the current context" : ""}; use it with: ${use}`,
  );
  return 0;
}

/** What is at `file`, a link itself rather than what it points to; undefined when nothing is. */
function lstatIfAny(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
