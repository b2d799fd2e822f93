/**
 * `castle <command> [<stack>] [flags]`: the castle's own tools.
 *
 * This module parses the command line and loads a command's modules only when that command runs
 * (`require` in each case below), so `castle check` never loads the Pulumi SDK that `render` needs.
 * Keep it that way: import only types at the top of this file.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import type { AccessKind } from "./access";

/** Where a command writes, and the environment it reads. */
export interface MainIo {
  out(line: string): void;
  err(line: string): void;
  /** Raw text to standard output (`--out -`). */
  write(text: string): void;
  env: NodeJS.ProcessEnv;
  /** How `up` and `preview` connect pulumi's output: the terminal (default), or lines to out and err. */
  stdio?: "inherit" | "pipe";
  /** Check the command line only: exit 0 where the command would start, without starting it. */
  validateOnly?: boolean;
}

type Flag = "out" | "yes" | "all" | "json" | "merge";

interface Command {
  /** `<stack>`: exactly one stack; `[<stack>]`: one or none; none: no positional. */
  stack: "one" | "optional" | "none";
  flags: Flag[];
  usage: string;
  summary: string;
  details: string;
}

const COMMANDS: Record<string, Command> = {
  check: {
    stack: "optional",
    flags: ["all"],
    usage: "castle check <stack> | --all",
    summary: "validate Pulumi.<stack>.yaml and the cross-stack rules (no credentials needed)",
    details:
      "Reads the stack file as Pulumi does and reports every problem at once, naming the key. --all checks every\nPulumi.*.yaml of the project. Exit 0 when valid, 1 otherwise.",
  },
  doctor: {
    stack: "one",
    flags: [],
    usage: "castle doctor <stack>",
    summary: "check, then fetch and validate the stack's secrets from Infisical",
    details:
      "Needs INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET, or an access token in INFISICAL_TOKEN (INFISICAL_SITE_URL\noverrides the stack's site). Prints what it does before each network step; a site that does not answer within\n5 s (nothing listening, packets dropped, or a listener that never answers) fails then. Never prints a secret\nvalue.",
  },
  render: {
    stack: "one",
    flags: ["out"],
    usage: "castle render <stack> [--out DIR]",
    summary: "what pulumi up would create, offline (no credentials)",
    details:
      "Runs the real program under Pulumi's mock runtime. --out DIR writes files to diff into a new or empty folder,\nor one castle render wrote before; it never removes a file it did not write.",
  },
  preview: {
    stack: "one",
    flags: [],
    usage: "castle preview <stack> [pulumi flags]",
    summary: "pulumi preview --stack <stack>, with the project's Node 22 first on PATH",
    details:
      "Runs the real pulumi preview for the stack. Every argument after the stack goes to pulumi unchanged\n(e.g. castle preview blue --diff). The program runs on node_modules/.bin/node (Node 22, installed by npm ci),\nwhatever node your shell has.",
  },
  up: {
    stack: "one",
    flags: [],
    usage: "castle up <stack> [pulumi flags]",
    summary: "pulumi up --stack <stack>, with the project's Node 22 first on PATH",
    details:
      "Runs the real pulumi up for the stack. Every argument after the stack goes to pulumi unchanged\n(e.g. castle up blue --yes). The program runs on node_modules/.bin/node (Node 22, installed by npm ci),\nwhatever node your shell has.",
  },
  recreate: {
    stack: "one",
    flags: ["yes"],
    usage: "castle recreate <stack> [--yes]",
    summary: "pre-flight, then pulumi destroy and pulumi up (asks for the stack name; --yes to skip)",
    details:
      "Pre-flight: the stack file passes check, its secrets come from Infisical (as doctor checks them) and the\nstatus of every stack can be read; otherwise nothing is destroyed. Needs the Pulumi CLI. After up, castle verify\nchecks the new castle (talosctl, kubectl); exit 1 if it fails.",
  },
  kubeconfig: {
    stack: "one",
    flags: ["out", "merge"],
    usage: "castle kubeconfig <stack> [--out FILE | --merge]",
    summary: "write the stack's admin kubeconfig, mode 0600 (default ~/.kube/castle-<stack>.yaml)",
    details:
      "Reads the stack's secret output through the Pulumi CLI and prints the path, never the content.\n--out - writes it to standard output. A file castle did not write is never overwritten.\n--merge adds or replaces the castle's cluster, user and context in ~/.kube/config (or the --out file), mode\n0600, leaving every other entry as it was; it never writes through a symbolic link.",
  },
  talosconfig: {
    stack: "one",
    flags: ["out", "merge"],
    usage: "castle talosconfig <stack> [--out FILE | --merge]",
    summary: "write the stack's talosconfig, mode 0600 (default ~/.talos/castle-<stack>.yaml)",
    details:
      "Reads the stack's secret output through the Pulumi CLI and prints the path, never the content.\n--out - writes it to standard output. A file castle did not write is never overwritten.\n--merge adds or replaces the castle's context in ~/.talos/config (or the --out file), mode 0600, leaving\nevery other context as it was; it never writes through a symbolic link.",
  },
  verify: {
    stack: "one",
    flags: ["json"],
    usage: "castle verify <stack> [--json]",
    summary: "prove the running castle: etcd sealed with the Infisical key, marks, ESO, Flux, identities, versions",
    details:
      "Read-only. Reads the stack's outputs (Pulumi CLI), its secrets (Infisical, as doctor), an etcd snapshot\n(talosctl, into a private temporary folder removed afterwards), the control planes' Proxmox tags and the cluster\n(kubectl). One row per check; exit 1 if any fails or cannot run. --json prints {stack, checks: [{check, ok, detail}]}.\nNever prints a decrypted value, a key or a token.",
  },
  status: {
    stack: "optional",
    flags: ["json"],
    usage: "castle status [<stack>] [--json]",
    summary: "every stack (or one): deployed, last update, healthy, endpoint, versions, key fingerprint",
    details:
      "Reads the Pulumi backend through the Pulumi CLI, each stack with --stack (never stack select) and no secret\n(never --show-secrets). Each read must answer within CASTLE_PULUMI_TIMEOUT seconds (default 60). A stack whose\nstatus cannot be read says why (deployed: null in --json) and the exit code is 1; it is never shown as not\ndeployed.",
  },
};

const FLAG_HELP: Record<Flag, string> = {
  out: "--out, -o",
  yes: "--yes, -y",
  all: "--all",
  json: "--json",
  merge: "--merge",
};

const USAGE = `usage: castle <command> [<stack>] [flags]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`)
  .join("\n")}

<stack> is a stack name (blue) or its file (Pulumi.blue.yaml). Run from any folder of the project.
castle help <command> (or castle <command> --help) tells more; castle --version prints the versions.`;

/** `castle --version`: the castle's version, and the Pulumi SDK and Node it runs on. */
function versionLine(): string {
  const own = require("../package.json") as { version: string };
  const sdk = require("@pulumi/pulumi/package.json") as { version: string };
  return `castle ${own.version} (@pulumi/pulumi ${sdk.version}, Node ${process.version})`;
}

function commandHelp(name: string): string {
  const c = COMMANDS[name];
  const flags = c.flags.map((f) => FLAG_HELP[f]).join(", ");
  return `usage: ${c.usage}\n\n${c.summary}\n\n${c.details}${flags ? `\n\nflags: ${flags}, --help` : ""}`;
}

/** The command closest to a mistyped one, if any is close. */
export function closestCommand(typed: string): string | undefined {
  const { closestName } = require("../lib/suggest") as typeof import("../lib/suggest");
  return closestName(typed, Object.keys(COMMANDS));
}

/** The folder holding Pulumi.yaml, walking up from `start` as `pulumi` does; `start` when there is none. */
function findProjectDir(start: string): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "Pulumi.yaml")) || existsSync(path.join(dir, "Pulumi.yml"))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start);
  }
}

/**
 * A stack argument: `blue`, `Pulumi.blue.yaml`, or a path to a stack file (whose folder is then the
 * project folder).
 */
function stackArgument(arg: string, cwd: string): { stack: string; dir?: string } {
  const file = /^Pulumi\.(.+)\.ya?ml$/.exec(path.basename(arg));
  if (!file) return { stack: arg };
  const folder = path.dirname(arg);
  return { stack: file[1], dir: folder === "." ? undefined : path.resolve(cwd, folder) };
}

class UsageError extends Error {}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: "string", short: "o" },
        yes: { type: "boolean", short: "y" },
        all: { type: "boolean" },
        json: { type: "boolean" },
        merge: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const option = /'([^']+)'/.exec((error as Error).message)?.[1];
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new UsageError(`unknown flag ${option ?? ""}`.trim());
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      throw new UsageError(
        `${option ?? "a flag"}: ${/argument missing/.test((error as Error).message) ? "needs a value" : "takes no value"}`,
      );
    }
    throw new UsageError((error as Error).message.split("\n")[0]);
  }
}

/**
 * Runs the command line. `cwd` is where the user is: the project is found by walking up from it, and
 * relative `--out` paths are taken from it. Returns the exit code: 0 ok, 1 the command found a problem,
 * 2 the command line is wrong.
 */
export async function main(argv: string[], cwd = process.cwd(), io: Partial<MainIo> = {}): Promise<number> {
  const out = io.out ?? ((line: string) => console.log(line));
  const err = io.err ?? ((line: string) => console.error(line));
  const write = io.write ?? ((text: string) => process.stdout.write(text));
  const env = io.env ?? process.env;

  // `up` and `preview` hand every argument after the stack to pulumi as it is.
  if ((argv[0] === "up" || argv[0] === "preview") && argv[1] !== undefined && !argv[1].startsWith("-")) {
    const operation = argv[0];
    const argument = stackArgument(argv[1], cwd);
    if (io.validateOnly) return 0;
    const { deploy } = require("./deploy") as typeof import("./deploy");
    return deploy(operation, argument.dir ?? findProjectDir(cwd), argument.stack, argv.slice(2), {
      out,
      err,
      env,
      stdio: io.stdio ?? "inherit",
    });
  }

  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const command = argv.find((a) => !a.startsWith("-"));
    const help = command && COMMANDS[command] ? `castle help ${command}` : "castle --help";
    err(`castle: ${error.message} (see ${help})`);
    return 2;
  }
  const { values: flags, positionals } = parsed;
  const [command, ...rest] = positionals;

  if (flags.version) {
    if (command !== undefined || flags.help) {
      err("castle: --version takes nothing else (castle --version)");
      return 2;
    }
    out(versionLine());
    return 0;
  }
  if (command === undefined) {
    if (flags.help) {
      out(USAGE);
      return 0;
    }
    err(USAGE);
    return 2;
  }
  if (command === "help") {
    const [topic, ...extra] = rest;
    if (topic === undefined) {
      out(USAGE);
      return 0;
    }
    if (!COMMANDS[topic]) return unknown(topic, err);
    if (extra.length > 0) {
      err(`castle help: one command at a time (castle help ${topic})`);
      return 2;
    }
    out(commandHelp(topic));
    return 0;
  }
  const spec = COMMANDS[command];
  if (!spec) return unknown(command, err);
  if (flags.help) {
    out(commandHelp(command));
    return 0;
  }

  const given = (Object.keys(flags) as (Flag | "help" | "version")[]).filter(
    (f) => f !== "help" && f !== "version",
  ) as Flag[];
  const foreign = given.filter((f) => !spec.flags.includes(f));
  if (foreign.length > 0) {
    err(`castle ${command}: ${foreign.map((f) => `--${f}`).join(", ")} does not apply here\n\n${commandHelp(command)}`);
    return 2;
  }
  const max = spec.stack === "none" ? 0 : 1;
  if (rest.length > max) {
    err(
      `castle ${command}: too many arguments: ${rest.slice(max).join(" ")} (${spec.usage}; one stack at a time${command === "check" ? ", or --all" : ""})`,
    );
    return 2;
  }
  if (flags.merge && flags.out === "-") {
    err(`castle ${command}: --merge writes into a file; --out - prints a separate ${command} instead (not both)`);
    return 2;
  }
  if (command === "check" && flags.all && rest.length > 0) {
    err("castle check: give a stack or --all, not both");
    return 2;
  }
  const needsStack = spec.stack === "one" || (command === "check" && !flags.all);
  if (needsStack && rest.length === 0) {
    err(`castle ${command}: which stack? (e.g. castle ${command} blue)\n\n${commandHelp(command)}`);
    return 2;
  }

  const argument = rest[0] === undefined ? undefined : stackArgument(rest[0], cwd);
  const projectDir = argument?.dir ?? findProjectDir(cwd);
  const stack = argument?.stack ?? "";
  const outPath = flags.out === undefined || flags.out === "-" ? flags.out : path.resolve(cwd, flags.out);
  if (io.validateOnly) return 0;

  switch (command) {
    case "check": {
      const { check, checkAll } = require("./check") as typeof import("./check");
      return flags.all ? checkAll(projectDir, out) : check(projectDir, stack, out).code;
    }
    case "doctor": {
      const { doctor } = require("./doctor") as typeof import("./doctor");
      return doctor(projectDir, stack, { out, err, env });
    }
    case "render": {
      const { render } = require("./render") as typeof import("./render");
      return render(projectDir, stack, outPath, { out, err });
    }
    case "recreate": {
      const recreate = require("./recreate") as typeof import("./recreate");
      return recreate.recreate(
        projectDir,
        stack,
        { yes: flags.yes === true },
        recreate.automationOperations(projectDir),
        { out, err, ask: recreate.terminalAsk(), now: () => performance.now() },
        recreate.doctorPreflight(projectDir, env),
        recreate.verifyAfterUp(projectDir, env),
      );
    }
    case "kubeconfig":
    case "talosconfig": {
      const { access } = require("./access") as typeof import("./access");
      const { pulumiReadTimeoutMs, secretStackOutputs } = require("./pulumi-cli") as typeof import("./pulumi-cli");
      return access(
        command as AccessKind,
        projectDir,
        stack,
        outPath,
        async (s) => secretStackOutputs(projectDir, s, pulumiReadTimeoutMs(env)),
        { out, err, write, env },
        { merge: flags.merge === true },
      );
    }
    case "verify": {
      const { verify } = require("./verify") as typeof import("./verify");
      return verify(projectDir, stack, { json: flags.json === true }, { out, err, env });
    }
    case "status": {
      const { cliStatusReader, status } = require("./status") as typeof import("./status");
      return status(
        projectDir,
        { json: flags.json === true, only: argument?.stack },
        () => cliStatusReader(projectDir, env),
        {
          out,
          err,
        },
      );
    }
    default:
      return unknown(command, err);
  }
}

function unknown(command: string, err: (line: string) => void): number {
  const suggestion = closestCommand(command);
  err(
    `castle: unknown command ${command}${suggestion ? `; did you mean ${suggestion}?` : ""} (castle --help lists the commands)`,
  );
  return 2;
}
