/**
 * The castle's way to the Pulumi CLI, loaded only by the commands that need a deployment: Pulumi's
 * Automation API over the project folder for what changes a stack (recreate's destroy and up), and reads
 * with a deadline, each with `--stack`, for what only looks (status, kubeconfig, talosconfig; below).
 *
 * Errors are told apart: a stack the backend does not know is `StackNotFound` (not deployed); anything
 * else (no Pulumi CLI, backend unreachable, not logged in) is a `PulumiCliError` and never read as
 * "not deployed".
 */
import type * as automationTypes from "@pulumi/pulumi/automation";

type Automation = typeof automationTypes;

/**
 * The Automation API module. `require`, not `import()`: the package's subpath is a folder, which ESM
 * resolution refuses ("Directory import ... is not supported"); CommonJS resolves it to its index.js.
 */
export function automation(): Automation {
  return require("@pulumi/pulumi/automation") as Automation;
}

/** The backend has no such stack. */
class StackNotFound extends Error {
  constructor(readonly stackName: string) {
    super(`the backend has no stack "${stackName}" (pulumi stack init ${stackName} creates it)`);
    this.name = "StackNotFound";
  }
}

/** The Pulumi CLI could not answer: not installed, not logged in, backend unreachable, ... */
class PulumiCliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PulumiCliError";
  }
}

/** What the CLI said went wrong: its `error:` line, or why it could not run at all. */
function cliMessage(error: unknown): string {
  const stderr = (error as { commandResult?: { stderr?: string } }).commandResult?.stderr ?? "";
  const text = `${stderr}\n${error instanceof Error ? error.message : String(error)}`;
  if (/ENOENT/.test(text) && /pulumi/.test(text)) {
    return "the Pulumi CLI is not installed or not on PATH (https://www.pulumi.com/docs/install/)";
  }
  const said = /error:\s*(.+)/.exec(text);
  return said ? said[1].trim() : text.trim().split("\n")[0];
}

/** Runs `fn`, turning the CLI's failures into StackNotFound or PulumiCliError. */
export async function cli<T>(stack: string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof StackNotFound || error instanceof PulumiCliError) throw error;
    const { StackNotFoundError } = automation();
    if (stack !== undefined && error instanceof StackNotFoundError) throw new StackNotFound(stack);
    throw new PulumiCliError(cliMessage(error));
  }
}

/** The Pulumi CLI found on PATH, with its version, keyed by the PATH it was looked up on. */
let found: { path: string | undefined; command: Promise<automationTypes.PulumiCommand> } | undefined;

/**
 * The Pulumi CLI on PATH. `PulumiCommand.get` runs `pulumi version` (and checks it against the SDK's
 * minimum); a command that selects several stacks asks once. A failed look-up is not kept, so the next
 * call tries again.
 */
function pulumiCommand(): Promise<automationTypes.PulumiCommand> {
  const path = process.env.PATH;
  if (found !== undefined && found.path === path) return found.command;
  const command = automation().PulumiCommand.get();
  command.catch(() => {
    if (found?.command === command) found = undefined;
  });
  found = { path, command };
  return command;
}

/** The stack, selected (`pulumi stack select`), for destroy and up; `envVars` reach every CLI run on it. */
export async function selectStack(
  projectDir: string,
  stack: string,
  envVars?: Record<string, string>,
): Promise<automationTypes.Stack> {
  return cli(stack, async () =>
    automation().LocalWorkspace.selectStack(
      { stackName: stack, workDir: projectDir },
      { pulumiCommand: await pulumiCommand(), ...(envVars ? { envVars } : {}) },
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Reads with a deadline, for `castle status`: the CLI run directly, each call with `--stack`, never
// `stack select` (the user's current stack stays theirs) and never `--show-secrets` (a status decrypts
// nothing). The Automation API has no such read: `LocalWorkspace.stackOutputs` always runs a second
// `stack output --json --show-secrets`, `Stack.history` needs a selected Stack, and neither takes a
// deadline (@pulumi/pulumi 3.276.0 automation/localWorkspace.js, stack.js).

/** Seconds one read may take when `CASTLE_PULUMI_TIMEOUT` does not say otherwise. */
export const PULUMI_READ_TIMEOUT_SECONDS = 60;

/** The deadline of one read, in milliseconds: `CASTLE_PULUMI_TIMEOUT` seconds, or the default. */
export function pulumiReadTimeoutMs(env: NodeJS.ProcessEnv): number {
  const raw = env.CASTLE_PULUMI_TIMEOUT;
  if (raw === undefined || raw.trim() === "") return PULUMI_READ_TIMEOUT_SECONDS * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new PulumiCliError(`CASTLE_PULUMI_TIMEOUT must be a number of seconds above 0, not "${raw}"`);
  }
  return seconds * 1000;
}

/**
 * Runs `pulumi <args> --non-interactive` in the project folder and returns its standard output. After
 * `timeoutMs` the CLI is killed and the read is a PulumiCliError naming the command: a read that waits
 * forever never holds up a status. A stack the backend does not know is StackNotFound, told by the same
 * pattern the Automation API uses (@pulumi/pulumi 3.276.0 automation/errors.js: /no stack named.*found/;
 * the CLI's text is `no stack named '<name>' found`, pulumi/pulumi pkg/backend/backenderr/backenderr.go).
 */
export function pulumiRead(
  args: string[],
  { cwd, timeoutMs, stack }: { cwd: string; timeoutMs: number; stack?: string },
): Promise<string> {
  const { spawn } = require("node:child_process") as typeof import("node:child_process");
  const command = `pulumi ${args.join(" ")}`;
  return new Promise((resolve, reject) => {
    const child = spawn("pulumi", [...args, "--non-interactive"], {
      cwd,
      env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      settle(() => {
        // Killed, and its pipes let go of, so that nothing it started keeps this process waiting.
        child.kill("SIGKILL");
        child.stdout.destroy();
        child.stderr.destroy();
        child.unref();
        reject(
          new PulumiCliError(`\`${command}\` did not answer within ${timeoutMs / 1000} s (CASTLE_PULUMI_TIMEOUT)`),
        );
      });
    }, timeoutMs);
    // "spawn pulumi ENOENT" when there is no CLI on PATH.
    child.once("error", (error) => settle(() => reject(new PulumiCliError(cliMessage(error)))));
    child.once("close", (code) =>
      settle(() => {
        if (code === 0) return resolve(stdout);
        if (stack !== undefined && /no stack named.*found/.test(stderr)) return reject(new StackNotFound(stack));
        reject(
          new PulumiCliError(cliMessage({ commandResult: { stderr }, message: `${command} exited with ${code}` })),
        );
      }),
    );
  });
}

/** Parses the JSON a `--json` read printed, or says which command printed something else. */
function readJson<T>(text: string, command: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new PulumiCliError(`\`pulumi ${command}\` did not print JSON: ${text.trim().split("\n")[0] ?? ""}`);
  }
}

/** The read-only calls `castle status` makes, each with `--stack` where it names one. */
export function pulumiReads(projectDir: string, timeoutMs: number) {
  const read = async <T>(args: string[], stack?: string) =>
    readJson<T>(await pulumiRead(args, { cwd: projectDir, timeoutMs, stack }), args.join(" "));
  return {
    /** `pulumi stack ls --json`: the project's stacks, with their resource counts. */
    listStacks: () => read<{ name: string; resourceCount?: number }[]>(["stack", "ls", "--json"]),
    /** `pulumi stack output --json --stack <stack>`: secret outputs come as "[secret]", undecrypted. */
    outputs: (stack: string) => read<Record<string, unknown>>(["stack", "output", "--json", "--stack", stack], stack),
    /** `pulumi stack history --json --page-size 1 --page 1 --stack <stack>`: the newest entry, secrets blinded. */
    history: (stack: string) =>
      read<unknown[]>(["stack", "history", "--json", "--page-size", "1", "--page", "1", "--stack", stack], stack),
  };
}

/**
 * A stack's outputs with secrets in clear, for kubeconfig and talosconfig:
 * `pulumi stack output --json --show-secrets --stack <stack>`, within the deadline.
 */
export async function secretStackOutputs(
  projectDir: string,
  stack: string,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const args = ["stack", "output", "--json", "--show-secrets", "--stack", stack];
  return readJson(await pulumiRead(args, { cwd: projectDir, timeoutMs, stack }), args.join(" "));
}
