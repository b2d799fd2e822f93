/**
 * `castle recreate <stack> [--yes]`: recreate, don't repair. `pulumi destroy` then `pulumi up` for one
 * stack, through Pulumi's Automation API (the Pulumi CLI must be installed), after a confirmation and
 * after checking that the other color keeps the service up when the stack asks for that.
 */
import { createInterface } from "node:readline/promises";
import { CastleConfigError, listStacks, loadStackFile } from "../config/load";

/** What the program knows of one stack's deployment. */
export interface StackStatus {
  stack: string;
  /** It has resources: its last update left outputs. */
  deployed: boolean;
  /** Its last update succeeded and reported a healthy cluster. */
  healthy: boolean;
}

/** The operations recreate needs, so the decisions can be tested without a Pulumi CLI. */
export interface StackOperations {
  status(stack: string): Promise<StackStatus>;
  destroy(stack: string, log: (line: string) => void): Promise<void>;
  up(stack: string, log: (line: string) => void): Promise<void>;
}

export interface RecreateDecisionInput {
  stack: string;
  /** castle:guards.keepOneColorUp of the stack: some color must always serve. */
  keepOneColorUp: boolean;
  /** Status of this stack and of every other stack of the project. */
  statuses: StackStatus[];
}

/** Why recreating would be refused, or undefined when it may go ahead. */
export function recreateRefusal({ stack, keepOneColorUp, statuses }: RecreateDecisionInput): string | undefined {
  if (!keepOneColorUp) return undefined;
  const self = statuses.find((s) => s.stack === stack);
  if (!self?.deployed) return undefined; // nothing serving is taken away
  const others = statuses.filter((s) => s.stack !== stack && s.deployed && s.healthy).map((s) => s.stack);
  if (others.length > 0) return undefined;
  const known = statuses.filter((s) => s.stack !== stack);
  const why =
    known.length === 0
      ? "there is no other stack"
      : known.map((s) => `${s.stack} is ${s.deployed ? "deployed but not healthy" : "not deployed"}`).join(", ");
  return (
    `refusing to recreate "${stack}": castle:guards.keepOneColorUp is set and destroying it would leave no healthy color (${why}). ` +
    `Bring another color up first (e.g. pulumi up --stack ${known[0]?.stack ?? "green"}), then cut over and recreate.`
  );
}

export interface RecreateIo {
  out(line: string): void;
  err(line: string): void;
  /** Asks the user to type something; undefined when there is no terminal to ask. */
  ask?(question: string): Promise<string>;
  now(): number;
}

export async function recreate(
  projectDir: string,
  stack: string,
  flags: { yes: boolean },
  operations: StackOperations,
  io: RecreateIo,
): Promise<number> {
  let keepOneColorUp: boolean;
  try {
    keepOneColorUp = loadStackFile(projectDir, stack).guards.keepOneColorUp;
  } catch (error) {
    if (!(error instanceof CastleConfigError)) throw error;
    io.err(error.message);
    return 1;
  }
  const statuses = await Promise.all(listStacks(projectDir).map((name) => operations.status(name)));
  const refusal = recreateRefusal({ stack, keepOneColorUp, statuses });
  if (refusal) {
    io.err(refusal);
    return 1;
  }
  if (!flags.yes) {
    if (!io.ask) {
      io.err(`castle recreate ${stack}: no terminal to confirm on; pass --yes to destroy and recreate without asking`);
      return 1;
    }
    const typed = await io.ask(
      `This destroys every resource of stack "${stack}" (its VMs, etcd and all data in the cluster) and creates it again.\nType the stack name to confirm: `,
    );
    if (typed.trim() !== stack) {
      io.err(`not confirmed ("${typed.trim()}" is not "${stack}"); nothing was changed`);
      return 1;
    }
  }
  const phases: [string, (s: string, log: (line: string) => void) => Promise<void>][] = [
    ["destroy", operations.destroy],
    ["up", operations.up],
  ];
  const timings: string[] = [];
  for (const [phase, run] of phases) {
    const started = io.now();
    io.out(`== pulumi ${phase} --stack ${stack}`);
    try {
      await run(stack, io.out);
    } catch (error) {
      io.err(`pulumi ${phase} of stack "${stack}" failed: ${(error as Error).message}`);
      io.err(
        phase === "destroy"
          ? "Nothing was created. Fix the cause and run castle recreate again; pulumi destroy is safe to repeat."
          : "The old cluster is gone. Fix the cause and run pulumi up (or castle recreate) again.",
      );
      return 1;
    }
    timings.push(`${phase} ${((io.now() - started) / 1000).toFixed(1)} s`);
  }
  io.out(`recreated "${stack}": ${timings.join(", ")}`);
  return 0;
}

/** The real operations, through the Automation API against the project's own workspace. */
export async function automationOperations(projectDir: string): Promise<StackOperations> {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
  const select = (stack: string) => LocalWorkspace.selectStack({ stackName: stack, workDir: projectDir });
  return {
    async status(stack) {
      try {
        const selected = await select(stack);
        const outputs = await selected.outputs();
        const [last] = await selected.history(1);
        return {
          stack,
          deployed: Object.keys(outputs).length > 0,
          healthy: last?.result === "succeeded" && outputs.clusterHealthy?.value === true,
        };
      } catch {
        return { stack, deployed: false, healthy: false }; // no such stack in the backend yet
      }
    },
    async destroy(stack, log) {
      await (await select(stack)).destroy({ onOutput: (text) => log(text.trimEnd()) });
    },
    async up(stack, log) {
      await (await select(stack)).up({ onOutput: (text) => log(text.trimEnd()) });
    },
  };
}

/** Asks on the terminal, or undefined when standard input is not one. */
export function terminalAsk(): RecreateIo["ask"] {
  if (!process.stdin.isTTY) return undefined;
  return async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  };
}
