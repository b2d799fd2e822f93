/**
 * The baseline of bench/load-probe.ts, in a fresh process: loads what the castle program loads from
 * outside its own code (the npm dependencies, the Talos bindings, the mock runtime) and registers
 * nothing. A separate file, so that a type-checking loader checks only these modules here.
 *
 *   node --import tsx bench/load-baseline.ts
 *
 * Prints one line `BENCH_PROBE {json}` with timestamps in milliseconds since the process started.
 */
export {};

const startedAt = performance.now();

async function baseline(): Promise<Record<string, number>> {
  const { startIdleMocks, touchLazyModules } = await import("./load-baseline-deps");
  startIdleMocks();
  const depsLoaded = performance.now();
  const touched = touchLazyModules();
  return { depsLoaded, lazyLoaded: performance.now(), touched };
}

async function main(): Promise<void> {
  const result = await baseline();
  const rss = process.memoryUsage().rss;
  process.stdout.write(`BENCH_PROBE ${JSON.stringify({ target: "baseline", startedAt, ...result, rssBytes: rss })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `load-baseline failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
