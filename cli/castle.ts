/**
 * `npx castle <command> <stack>`: the castle's own tools, usable without the Pulumi CLI.
 */
import { check } from "./check";
import { automationOperations, recreate, terminalAsk } from "./recreate";

const USAGE = `usage: castle <command> <stack>

commands:
  check <stack>     validate Pulumi.<stack>.yaml and the cross-stack rules (no credentials needed)
  recreate <stack>  pulumi destroy, then pulumi up (asks for the stack name; --yes to skip)`;

export async function main(argv: string[], projectDir = process.cwd()): Promise<number> {
  const flags = argv.filter((a) => a.startsWith("--"));
  const [command, stack] = argv.filter((a) => !a.startsWith("--"));
  const out = (line: string) => console.log(line);
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
    default:
      console.error(`castle: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
