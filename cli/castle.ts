/**
 * `npx castle <command> <stack>`: the castle's own tools, usable without the Pulumi CLI.
 */
import { parseArgs } from "node:util";
import { check } from "./check";
import { type CliIo, doctor } from "./doctor";
import { automationOperations, recreate, terminalAsk } from "./recreate";
import { render } from "./render";

const USAGE = `usage: castle <command> <stack>

commands:
  check <stack>     validate Pulumi.<stack>.yaml and the cross-stack rules (no credentials needed)
  recreate <stack>  pulumi destroy, then pulumi up (asks for the stack name; --yes to skip)
  doctor <stack>    check, then fetch and validate the stack's secrets from Infisical (needs
                    INFISICAL_CLIENT_ID / INFISICAL_CLIENT_SECRET; never prints a value)
  render <stack> [--out DIR]
                    what pulumi up would create, offline (no credentials); --out writes files to diff`;

export async function main(argv: string[], projectDir = process.cwd(), io: Partial<CliIo> = {}): Promise<number> {
  const out = io.out ?? ((line: string) => console.log(line));
  const err = io.err ?? ((line: string) => console.error(line));
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    err(`castle: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: flags, positionals } = parsed;
  const [command, stack] = positionals;
  if (command === undefined || command === "help" || flags.help) {
    out(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (!stack) {
    err(`castle ${command}: which stack? (e.g. castle ${command} blue)\n\n${USAGE}`);
    return 2;
  }
  switch (command) {
    case "check":
      return check(projectDir, stack, out).code;
    case "recreate":
      return recreate(projectDir, stack, { yes: flags.yes === true }, await automationOperations(projectDir), {
        out,
        err,
        ask: terminalAsk(),
        now: () => performance.now(),
      });
    case "doctor":
      return doctor(projectDir, stack, {
        out,
        err,
        env: io.env ?? process.env,
      });
    case "render":
      return render(projectDir, stack, flags.out, { out, err });
    default:
      err(`castle: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { out: { type: "string" }, yes: { type: "boolean" }, help: { type: "boolean" } },
  });
}
