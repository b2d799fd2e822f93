/**
 * The castle's way to the Pulumi CLI: Pulumi's Automation API (LocalWorkspace) over the project folder.
 * Loaded only by the commands that need a deployment (recreate, kubeconfig, talosconfig, status).
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
 * minimum); a command that opens several workspaces, such as `castle status` over every stack, asks
 * once. A failed look-up is not kept, so the next call tries again.
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

/** A LocalWorkspace over the project folder. */
export async function workspace(projectDir: string): Promise<automationTypes.LocalWorkspace> {
  return cli(undefined, async () =>
    automation().LocalWorkspace.create({ workDir: projectDir, pulumiCommand: await pulumiCommand() }),
  );
}

/** A stack's outputs, secrets in clear (`pulumi stack output --json --show-secrets`). */
export async function stackOutputs(projectDir: string, stack: string): Promise<automationTypes.OutputMap> {
  const ws = await workspace(projectDir);
  return cli(stack, () => ws.stackOutputs(stack));
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
