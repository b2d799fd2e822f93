/**
 * Program load time: each measurement is a fresh `node` process running bench/load-probe.ts (target: a
 * topology) or bench/load-baseline.ts (target `baseline`), which reports, in milliseconds since its
 * process started, when the castle's last resource was registered (zero-latency mocks) or when the
 * same dependencies were loaded.
 *
 * Loaders:
 * - `tsx`: `node --import tsx`, the project's Pulumi.yaml `nodeargs` (tsx's transform cache warm, as on
 *   any second run).
 * - `tsx-cold`: the same with `TSX_DISABLE_CACHE=1`.
 * - `ts-node-check-cold` / `ts-node-check-warm`: ts-node registered as `pulumi` does without `nodeargs`
 *   (bench/ts-node-register.cjs: vendored ts-node 7.0.1, the project's TypeScript, type checking on),
 *   with an empty compile cache (a first run, or any run after an edit) and with the cache that run left
 *   (ts-node then skips both compiling and type checking for unchanged files).
 * - `ts-node-transpile`: the same with `PULUMI_NODEJS_TRANSPILE_ONLY=true`, empty cache.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { median } from "./simulate";
import { PROJECT_DIR } from "./topologies";

export type Loader = "tsx" | "tsx-cold" | "ts-node-check-cold" | "ts-node-check-warm" | "ts-node-transpile";

export interface ProbeOutput {
  target: string;
  /** Milliseconds since process start at which the probe module began to run (loader ready). */
  startedAt: number;
  /** Castle: last resource registration. */
  lastRegistered?: number;
  /** Baseline: the dependencies, and the lazily loaded classes the castle uses, loaded. */
  lazyLoaded?: number;
  resources?: number;
  /** Wall time of the whole child process, spawn to exit. */
  processMs: number;
}

/** Runs one probe child and returns what it printed. */
function runProbe(loader: Loader, target: string, tsNodeCache?: string): Promise<ProbeOutput> {
  const probe = path.join("bench", target === "baseline" ? "load-baseline.ts" : "load-probe.ts");
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  let args: string[];
  if (loader === "tsx" || loader === "tsx-cold") {
    args = ["--import", "tsx", probe, ...(target === "baseline" ? [] : [target])];
    if (loader === "tsx-cold") env.TSX_DISABLE_CACHE = "1";
  } else {
    args = ["--require", "./bench/ts-node-register.cjs", probe, ...(target === "baseline" ? [] : [target])];
    if (loader === "ts-node-transpile") env.PULUMI_NODEJS_TRANSPILE_ONLY = "true";
    else delete env.PULUMI_NODEJS_TRANSPILE_ONLY;
    env.TS_NODE_CACHE_DIRECTORY = tsNodeCache ?? mkdtempSync(path.join(tmpdir(), "castle-bench-ts-node-"));
  }
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: PROJECT_DIR, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const processMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (tsNodeCache === undefined && env.TS_NODE_CACHE_DIRECTORY) {
        rmSync(env.TS_NODE_CACHE_DIRECTORY, { recursive: true, force: true });
      }
      const line = stdout.split("\n").find((l) => l.startsWith("BENCH_PROBE "));
      if (code !== 0 || line === undefined) {
        reject(new Error(`${loader} ${target}: probe exited with ${code}\n${stderr.slice(-2000)}`));
        return;
      }
      resolve({ ...(JSON.parse(line.slice("BENCH_PROBE ".length)) as Omit<ProbeOutput, "processMs">), processMs });
    });
  });
}

/** The time a probe reports: last registration (castle) or dependencies loaded (baseline). */
function readyMs(output: ProbeOutput): number {
  const value = output.target === "baseline" ? output.lazyLoaded : output.lastRegistered;
  if (value === undefined) throw new Error(`probe ${output.target} reported no time`);
  return value;
}

export interface LoadSeries {
  loader: Loader;
  target: string;
  runs: number[];
  medianMs: number;
  processMedianMs: number;
  resources?: number;
}

/**
 * Runs every (loader, target) pair `runs` times, interleaved round by round so that drift of the machine
 * spreads over all of them. Warm ts-node pairs reuse one cache per target, primed by an untimed run.
 */
export async function measureLoads(
  pairs: { loader: Loader; target: string }[],
  runs: number,
  onProgress?: (text: string) => void,
): Promise<LoadSeries[]> {
  const caches = new Map<string, string>();
  for (const { loader, target } of pairs) {
    if (loader !== "ts-node-check-warm") continue;
    const dir = mkdtempSync(path.join(tmpdir(), "castle-bench-ts-node-warm-"));
    caches.set(target, dir);
    await runProbe(loader, target, dir);
  }
  const outputs = pairs.map(() => [] as ProbeOutput[]);
  for (let round = 0; round < runs; round++) {
    for (const [i, { loader, target }] of pairs.entries()) {
      onProgress?.(`load time: ${loader} ${target} run ${round + 1}/${runs}`);
      const cache = loader === "ts-node-check-warm" ? caches.get(target) : undefined;
      (outputs[i] as ProbeOutput[]).push(await runProbe(loader, target, cache));
    }
  }
  for (const dir of caches.values()) rmSync(dir, { recursive: true, force: true });
  return pairs.map(({ loader, target }, i) => {
    const results = outputs[i] as ProbeOutput[];
    const times = results.map(readyMs);
    return {
      loader,
      target,
      runs: times,
      medianMs: median(times),
      processMedianMs: median(results.map((r) => r.processMs)),
      resources: results[0]?.resources,
    };
  });
}
