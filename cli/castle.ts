/**
 * `npx castle <command> <stack>`: the castle's own tools, usable without the Pulumi CLI.
 */
import { check } from "./check";
import { type CliIo, doctor } from "./doctor";
import { automationOperations, recreate, terminalAsk } from "./recreate";

const USAGE = `usage: castle <command> <stack>

commands:
  check <stack>     validate Pulumi.<stack>.yaml and the cross-stack rules (no credentials needed)
  recreate <stack>  pulumi destroy, then pulumi up (asks for the stack name; --yes to skip)
  doctor <stack>    check, then fetch and validate the stack's secrets from Infisical (needs
                    INFISICAL_CLIENT_ID / INFISICAL_CLIENT_SECRET; never prints a value)`;

export async function main(argv: string[], projectDir = process.cwd(), io: Partial<CliIo> = {}): Promise<number> {
  const flags = argv.filter((a) => a.startsWith("--"));
  const [command, stack] = argv.filter((a) => !a.startsWith("--"));
  const out = io.out ?? ((line: string) => console.log(line));
  if (command === undefined || command === "help" || flags.includes("--help")) {
    out(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (!stack) {
    console.error(`castle ${command}: which stack? (e.g. castle ${command} blue)\n\n${USAGE}`);
    return 2;
  }
  switch (command) {
    case "check":
      return check(projectDir, stack, out).code;
    case "recreate":
      return recreate(projectDir, stack, { yes: flags.includes("--yes") }, await automationOperations(projectDir), {
        out,
        err: (line) => console.error(line),
        ask: terminalAsk(),
        now: () => performance.now(),
      });
    case "doctor":
      return doctor(projectDir, stack, {
        out,
        err: io.err ?? ((line) => console.error(line)),
        env: io.env ?? process.env,
      });
    default:
      console.error(`castle: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
