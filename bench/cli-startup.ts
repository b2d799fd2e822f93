/**
 * How fast the `castle` command answers: each case runs as a fresh process (as a user runs it), several
 * times, and the median wall time is reported beside two baselines, bare Node and Node with the tsx
 * loader. `npm run bench:cli`; not part of `npm test` (it measures time).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env.RUNS ?? 9);
const BIN = path.join(ROOT, "bin", "castle.cjs");

/** Each case: what runs (Node itself unless `command` says otherwise) with its arguments. */
const cases: { name: string; command?: string; args: string[] }[] = [
  { name: "node -e 0 (baseline)", args: ["-e", "0"] },
  { name: "node + tsx loader (baseline)", args: ["-e", 'require("tsx/cjs")'] },
  { name: "castle --help", args: [BIN, "--help"] },
  { name: "castle check blue", args: [BIN, "check", "blue"] },
  { name: "castle check --all", args: [BIN, "check", "--all"] },
  // As the README has users run it: npx's own start-up (npm, on the machine's Node) included.
  { name: "npx castle check blue", command: "npx", args: ["castle", "check", "blue"] },
];

function once(command: string, args: string[]): number {
  const started = performance.now();
  execFileSync(command, args, { cwd: ROOT, stdio: "ignore" });
  return performance.now() - started;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

console.log(`| command | median of ${RUNS} (ms) | min (ms) |`);
console.log("|---|---|---|");
for (const { name, command = process.execPath, args } of cases) {
  once(command, args); // warm the tsx cache and the file system cache
  const times = Array.from({ length: RUNS }, () => once(command, args));
  console.log(`| ${name} | ${median(times).toFixed(0)} | ${Math.min(...times).toFixed(0)} |`);
}
