/**
 * `npx castle <command> <stack>`: the castle's own tools, usable without the Pulumi CLI.
 */
import { check } from "./check";

const USAGE = `usage: castle <command> <stack>

commands:
  check <stack>     validate Pulumi.<stack>.yaml and the cross-stack rules (no credentials needed)`;

export async function main(argv: string[], projectDir = process.cwd()): Promise<number> {
  const [command, stack] = argv;
  const out = (line: string) => console.log(line);
  if (command === undefined || command === "help" || command === "--help") {
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
    default:
      console.error(`castle: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
