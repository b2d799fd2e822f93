/**
 * `castle kubeconfig <stack> [--out FILE]` and `castle talosconfig <stack> [--out FILE]`: the stack's
 * admin kubeconfig or talosconfig, read from its secret outputs through the Pulumi CLI, written with
 * mode 0600 (a folder it creates gets 0700). The path is printed, never the content; `--out -` writes the
 * content to standard output for piping.
 *
 * A file is overwritten only when this command wrote it (it starts with the marker line below): a
 * kubeconfig or talosconfig the user keeps at that path stays as it is.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
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
export type OutputsReader = (stack: string) => Promise<Record<string, { value: unknown; secret: boolean }>>;

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
): Promise<number> {
  const home = io.env.HOME || homedir();
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
  let outputs: Awaited<ReturnType<OutputsReader>>;
  try {
    outputs = await readOutputs(stack);
  } catch (error) {
    io.err(`castle ${kind} ${stack}: cannot read the stack's outputs: ${(error as Error).message}`);
    return 1;
  }
  const value = outputs[ACCESS_OUTPUT[kind]]?.value;
  if (typeof value !== "string" || value.trim() === "") {
    io.err(
      `castle ${kind} ${stack}: the stack has no ${ACCESS_OUTPUT[kind]} output; it is not deployed or its last update did not finish. Run pulumi up --stack ${stack} (castle status shows where it stands)`,
    );
    return 1;
  }
  const content = value.endsWith("\n") ? value : `${value}\n`;
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
