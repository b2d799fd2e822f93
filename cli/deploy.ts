/**
 * `castle up <stack> [pulumi flags]` and `castle preview <stack> [pulumi flags]`: the real `pulumi up` /
 * `pulumi preview --stack <stack>`, with the project's Node 22 (`node_modules/.bin/node`, the `node`
 * devDependency) first on PATH, every other argument passed through unchanged, as npx runs a package's
 * tools. Pulumi's Node.js language host starts the program with the first `node` on PATH
 * (pulumi/pulumi v3.259.0 sdk/nodejs/cmd/pulumi-language-nodejs/main.go: `exec.LookPath("node")`), and
 * @pulumi/pulumi 3.276 needs Node 22: so a machine whose own Node is older deploys all the same.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

/**
 * A command's output, which arrives in chunks, passed on as whole lines as they complete; `flush` passes
 * on the last one when it has no newline.
 */
export function wholeLines(log: (line: string) => void): { write(chunk: string): void; flush(): void } {
  let pending = "";
  return {
    write: (chunk) => {
      const parts = (pending + chunk).split("\n");
      pending = parts.pop() ?? "";
      for (const line of parts) log(line);
    },
    flush: () => {
      if (pending !== "") log(pending);
      pending = "";
    },
  };
}

/** The Node major the program needs (`engines` in package.json, from @pulumi/pulumi 3.276). */
const NODE_MAJOR = 22;

export interface DeployIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  /** "inherit" (the terminal, so pulumi can ask its questions) or "pipe" (lines to out and err). */
  stdio: "inherit" | "pipe";
}

/** What `<node> --version` says, with its major; or, when it does not run, why (its first line). */
function nodeVersion(node: string): { version: string; major: number } | { error: string } {
  try {
    const version = execFileSync(node, ["--version"], { encoding: "utf8", timeout: 10_000 }).trim();
    return { version, major: Number(/^v(\d+)\./.exec(version)?.[1]) };
  } catch (error) {
    return { error: (error as Error).message.split("\n")[0] };
  }
}

/** The project's Node (its folder and version), or why it cannot be used. */
export function projectNode(projectDir: string): { bin: string; version: string } | { problem: string } {
  const bin = path.join(projectDir, "node_modules", ".bin");
  const node = path.join(bin, process.platform === "win32" ? "node.cmd" : "node");
  if (!existsSync(node)) {
    return {
      problem: `${node} is missing: run npm ci in ${projectDir} (it installs Node ${NODE_MAJOR} for the program)`,
    };
  }
  const ran = nodeVersion(node);
  if ("error" in ran) return { problem: `${node} does not run (${ran.error}): run npm ci again` };
  const { version, major } = ran;
  if (!(major >= NODE_MAJOR)) {
    return { problem: `${node} is ${version}; the program needs Node ${NODE_MAJOR} or later: run npm ci again` };
  }
  return { bin, version };
}

/** Runs `pulumi <operation> --stack <stack> <passThrough...>`; its exit code is the command's. */
export async function deploy(
  operation: "up" | "preview",
  projectDir: string,
  stack: string,
  passThrough: string[],
  io: DeployIo,
): Promise<number> {
  const stackFlag = passThrough.find((a) => a === "--stack" || a === "-s" || a.startsWith("--stack="));
  if (stackFlag) {
    io.err(`castle ${operation}: the stack is the first argument (castle ${operation} ${stack}); drop ${stackFlag}`);
    return 2;
  }
  if (!existsSync(path.join(projectDir, `Pulumi.${stack}.yaml`))) {
    io.err(
      `castle ${operation}: no stack file ${path.join(projectDir, `Pulumi.${stack}.yaml`)}: is "${stack}" the stack's name? (castle status lists the stacks)`,
    );
    return 1;
  }
  const node = projectNode(projectDir);
  if ("problem" in node) {
    io.err(`castle ${operation}: ${node.problem}`);
    return 1;
  }
  const args = [operation, "--stack", stack, ...passThrough];
  // io.env is process.env when run from a terminal; a test gives only what it changes.
  const base = { ...process.env, ...io.env };
  const env = { ...base, PATH: [node.bin, base.PATH ?? ""].filter(Boolean).join(path.delimiter) };
  io.err(`castle ${operation}: pulumi ${args.join(" ")} (Node ${node.version} from ${node.bin})`);
  const child = spawn("pulumi", args, { cwd: projectDir, env, stdio: io.stdio === "inherit" ? "inherit" : "pipe" });
  if (io.stdio === "pipe") {
    // Whole lines as they complete; a last line without a newline when the stream ends.
    for (const [stream, log] of [
      [child.stdout, io.out],
      [child.stderr, io.err],
    ] as const) {
      const output = wholeLines(log);
      stream?.setEncoding("utf8");
      stream?.on("data", output.write);
      stream?.on("end", output.flush);
    }
  }
  // Ctrl-C reaches pulumi too (same process group): it cancels gracefully, and castle waits for it.
  const ignore = () => {};
  process.on("SIGINT", ignore);
  try {
    return await new Promise<number>((resolve) => {
      child.once("error", (error: NodeJS.ErrnoException) => {
        io.err(
          error.code === "ENOENT"
            ? `castle ${operation}: the Pulumi CLI is not installed or not on PATH (https://www.pulumi.com/docs/install/)`
            : `castle ${operation}: cannot run pulumi: ${error.message}`,
        );
        resolve(1);
      });
      child.once("close", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    process.off("SIGINT", ignore);
  }
}

/**
 * The `node` a bare `pulumi up` would start the program with: the first on the shell's PATH. npx and
 * npm scripts put `node_modules/.bin` folders (and npm's node-gyp-bin) first on the PATH castle runs
 * with, so those entries are left out to see the shell's own. One line for `castle doctor`, naming the
 * fix when that Node is older than the program needs.
 */
export function nodeForBarePulumi(env: NodeJS.ProcessEnv, stack: string): { ok: boolean; line: string } {
  const shellPath = (env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir !== "" && !dir.endsWith(path.join("node_modules", ".bin")) && !dir.endsWith("node-gyp-bin"));
  const fix = `npx castle up ${stack} (and npx castle preview ${stack}) run pulumi with the project's Node ${NODE_MAJOR}; or put Node ${NODE_MAJOR} first on PATH`;
  const node = shellPath.map((dir) => path.join(dir, "node")).find((file) => existsSync(file));
  if (node === undefined) return { ok: false, line: `node for a bare pulumi up: none on PATH; ${fix}` };
  const ran = nodeVersion(node);
  if ("error" in ran)
    return { ok: false, line: `node for a bare pulumi up: ${node} does not run (${ran.error}); ${fix}` };
  const { version, major } = ran;
  return major >= NODE_MAJOR
    ? { ok: true, line: `node for a bare pulumi up: ${version} (${node}): ok` }
    : {
        ok: false,
        line: `node for a bare pulumi up: ${version} (${node}) is older than the Node ${NODE_MAJOR} @pulumi/pulumi 3.276 needs: ${fix}`,
      };
}
