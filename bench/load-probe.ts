/**
 * One measurement of program load time, run in a fresh process by bench/load-time.ts:
 *
 *   node --import tsx bench/load-probe.ts <topology>   the castle, zero-latency mocks
 *
 * (bench/load-baseline.ts is its counterpart that loads the same dependencies and registers nothing.)
 *
 * Prints one line `BENCH_PROBE {json}` with timestamps in milliseconds since the process started
 * (performance.timeOrigin). Everything is imported dynamically, after the first timestamp, so the
 * ordering of the measurement is the ordering of this file.
 */
export {};

const startedAt = performance.now();

async function castle(topologyName: string): Promise<Record<string, number>> {
  const { topologyNamed } = await import("./topologies");
  const { castleInputs, runCastle, startCastleMocks } = await import("./run-castle");
  let lastRegistered = 0;
  const harness = startCastleMocks((kind) => {
    if (kind === "resource") lastRegistered = performance.now();
  });
  await runCastle(await castleInputs(topologyNamed(topologyName)));
  return {
    lastRegistered,
    settled: performance.now(),
    resources: harness.resources.length,
    invokes: harness.invokes.length,
  };
}

async function main(): Promise<void> {
  const target = process.argv[2];
  if (target === undefined) throw new Error("usage: load-probe.ts <topology>");
  const result = await castle(target);
  const rss = process.memoryUsage().rss;
  process.stdout.write(`BENCH_PROBE ${JSON.stringify({ target, startedAt, ...result, rssBytes: rss })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `load-probe failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
