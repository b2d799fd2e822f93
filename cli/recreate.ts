/**
 * `castle recreate <stack> [--yes]`: recreate, don't repair. `pulumi destroy` then `pulumi up` for one
 * stack, through Pulumi's Automation API (the Pulumi CLI must be installed), after a pre-flight (the
 * stack file passes `check`, the secrets come from Infisical as `doctor` checks them), a confirmation,
 * and a check that the other color keeps the service up when the stack asks for that. Nothing is
 * destroyed unless all of these pass; a status that cannot be read stops it too.
 */
import { createInterface } from "node:readline/promises";
import { CastleConfigError, listStacks, loadStackFile } from "../config/load";
import type { CliIo } from "./doctor";

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

/** The pre-flight: true when the stack may be destroyed (it printed why not otherwise). */
export type Preflight = (stack: string, io: RecreateIo) => Promise<boolean>;

/** The real pre-flight: `castle doctor` (check, then every secret fetched from Infisical and validated). */
export function doctorPreflight(projectDir: string, env: NodeJS.ProcessEnv): Preflight {
  return async (stack, io) => {
    const { doctor } = require("./doctor") as typeof import("./doctor");
    const doctorIo: CliIo = { out: io.out, err: io.err, env };
    return (await doctor(projectDir, stack, doctorIo)) === 0;
  };
}

/**
 * The acceptance after `up`: true when the new castle passed (what it found is printed). Kept apart from
 * the pre-flight and the Pulumi operations so that recreate's own steps stay as they are.
 */
export type Verification = (stack: string, io: RecreateIo) => Promise<boolean>;

/** The real acceptance: `castle verify <stack>`, its table printed as the command prints it. */
export function verifyAfterUp(projectDir: string, env: NodeJS.ProcessEnv): Verification {
  return async (stack, io) => {
    const { verify } = require("./verify") as typeof import("./verify");
    return (await verify(projectDir, stack, { json: false }, { out: io.out, err: io.err, env })) === 0;
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function recreate(
  projectDir: string,
  stack: string,
  flags: { yes: boolean },
  operations: StackOperations,
  io: RecreateIo,
  preflight: Preflight,
  verification?: Verification,
): Promise<number> {
  const timings: string[] = [];
  const phase = async (label: string, name: string, run: () => Promise<boolean>): Promise<boolean> => {
    const started = io.now();
    io.out(`== ${name}`);
    const ok = await run();
    const took = seconds(io.now() - started);
    io.out(`== ${name}: ${ok ? "done" : "stopped"} in ${took}`);
    timings.push(`${label} ${took}`);
    return ok;
  };

  const ready = await phase(
    "pre-flight",
    "pre-flight (check, secrets from Infisical, status of every stack)",
    async () => {
      let keepOneColorUp: boolean;
      try {
        keepOneColorUp = loadStackFile(projectDir, stack).guards.keepOneColorUp;
      } catch (error) {
        if (!(error instanceof CastleConfigError)) throw error;
        io.err(error.message);
        io.err(`castle recreate ${stack}: the stack file does not pass check; nothing was destroyed`);
        return false;
      }
      if (!(await preflight(stack, io))) {
        io.err(`castle recreate ${stack}: the pre-flight failed (see above); nothing was destroyed`);
        return false;
      }
      let statuses: StackStatus[];
      try {
        statuses = await Promise.all(listStacks(projectDir).map((name) => operations.status(name)));
      } catch (error) {
        io.err(
          `castle recreate ${stack}: cannot read the stacks' status: ${(error as Error).message}. Nothing was destroyed`,
        );
        return false;
      }
      const refusal = recreateRefusal({ stack, keepOneColorUp, statuses });
      if (refusal) {
        io.err(refusal);
        return false;
      }
      return true;
    },
  );
  if (!ready) return 1;

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
  for (const [name, run] of [
    ["destroy", operations.destroy],
    ["up", operations.up],
  ] as const) {
    const ok = await phase(name, `pulumi ${name} --stack ${stack}`, async () => {
      try {
        await run(stack, io.out);
        return true;
      } catch (error) {
        io.err(`pulumi ${name} of stack "${stack}" failed: ${(error as Error).message}`);
        io.err(
          name === "destroy"
            ? "Nothing was created. Fix the cause and run castle recreate again; pulumi destroy is safe to repeat."
            : "The old cluster is gone. Fix the cause and run pulumi up (or castle recreate) again.",
        );
        return false;
      }
    });
    if (!ok) return 1;
  }
  if (verification && !(await phase("verify", `castle verify ${stack}`, () => verification(stack, io)))) {
    io.err(
      `castle recreate ${stack}: the castle is up again, but castle verify failed (see above): fix what it names, then run castle verify ${stack}`,
    );
    return 1;
  }
  io.out(`recreated "${stack}": ${timings.join(", ")}`);
  return 0;
}

/** The real operations, through the Automation API against the project's own workspace. */
export function automationOperations(projectDir: string): StackOperations {
  const { cli, selectStack } = require("./pulumi-cli") as typeof import("./pulumi-cli");
  const { cliStatusReader, stackState } = require("./status") as typeof import("./status");
  // The CLI's output arrives in chunks: print whole lines as they complete, the rest at the end.
  const lines = (log: (line: string) => void) => {
    let pending = "";
    return {
      onOutput: (chunk: string) => {
        const parts = (pending + chunk).split("\n");
        pending = parts.pop() ?? "";
        for (const line of parts) log(line);
      },
      flush: () => {
        if (pending !== "") log(pending);
        pending = "";
      },
    };
  };
  let reading: ReturnType<typeof cliStatusReader> | undefined;
  return {
    async status(stack) {
      // Any error but "no such stack" (no CLI, backend unreachable) is thrown: never read as "not deployed".
      reading ??= cliStatusReader(projectDir);
      const reader = await reading;
      const listed = (await reader.list()).find((s) => (s.name.split("/").pop() ?? s.name) === stack);
      if (!listed) return { stack, deployed: false, healthy: false };
      const state = await stackState(reader, { ...listed, name: stack }, true);
      if (state.error) throw new Error(`stack "${stack}": ${state.error}`);
      return { stack, deployed: state.deployed === true, healthy: state.healthy === true };
    },
    async destroy(stack, log) {
      const selected = await selectStack(projectDir, stack);
      const output = lines(log);
      await cli(stack, () => selected.destroy({ onOutput: output.onOutput })).finally(output.flush);
    },
    async up(stack, log) {
      const selected = await selectStack(projectDir, stack);
      const output = lines(log);
      await cli(stack, () => selected.up({ onOutput: output.onOutput })).finally(output.flush);
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
