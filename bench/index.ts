/**
 * `npm run bench`: the castle's performance numbers, printed as Markdown and written to
 * bench/results.json and bench/results.md.
 *
 * 1. Deployment simulation: the real program under modelled provider latencies (bench/model.ts),
 *    against the lower bound of any deployment, per topology, with the critical path found.
 * 2. Program load time: process start to last registration, fresh process per run, against a baseline
 *    that only loads the dependencies; and the TypeScript loaders a user could configure.
 * 3. Infisical: HTTP requests and bytes of the castle's secret fetch.
 *
 * Knobs (environment): BENCH_SIM_RUNS (3), BENCH_SCALE_MS (2), BENCH_LOAD_RUNS (5),
 * BENCH_LOADER_RUNS (3), BENCH_TYPECHECK_RUNS (1). Timing: never part of `npm test`.
 *
 * `npm run bench -- --quick`: every part once, on the two smallest topologies, the tsx loader only and
 * one Infisical folder size; prints the same report and writes nothing. The tests run it so that a change
 * cannot break the benchmark unnoticed; its numbers are not the benchmark's.
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type InfisicalTraffic, measureInfisical } from "./infisical-traffic";
import { type Loader, type LoadSeries, measureLoads } from "./load-time";
import { ESSENTIAL_CHAIN, lowerBoundSeconds, STEPS, stepKey, stepOf } from "./model";
import { type SimulationResult, simulate, simulateOnce } from "./simulate";
import { TOPOLOGIES, topologyNamed } from "./topologies";

const knob = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const QUICK = process.argv.slice(2).includes("--quick");
const unknownArgs = process.argv.slice(2).filter((arg) => arg !== "--quick");
if (unknownArgs.length > 0) {
  process.stderr.write(`bench: unknown argument ${unknownArgs.join(" ")}; the only one is --quick\n`);
  process.exit(2);
}
const SIM_RUNS = QUICK ? 1 : knob("BENCH_SIM_RUNS", 3);
const SCALE_MS = knob("BENCH_SCALE_MS", 2);
const LOAD_RUNS = QUICK ? 1 : knob("BENCH_LOAD_RUNS", 5);
const LOADER_RUNS = knob("BENCH_LOADER_RUNS", 3);
const TYPECHECK_RUNS = knob("BENCH_TYPECHECK_RUNS", 1);

const TARGETS = { ratio: 1.05, ownLoadSeconds: 0.5 } as const;
const INFISICAL_FOLDER_SIZES = QUICK ? [5] : [5, 50, 500];
const LOADER_TOPOLOGY = "3+2";
/** The topologies measured: all, or the two smallest in a quick run (the loaders' one among them). */
const BENCH_TOPOLOGIES = QUICK ? TOPOLOGIES.filter((t) => ["1+0", LOADER_TOPOLOGY].includes(t.name)) : TOPOLOGIES;
/** The TypeScript loaders compared beside tsx; none in a quick run. */
const OTHER_LOADERS: Loader[] = QUICK
  ? []
  : ["tsx-cold", "ts-node-check-cold", "ts-node-check-warm", "ts-node-transpile"];

const benchStart = performance.now();
const progress = (text: string) =>
  process.stderr.write(`  [${((performance.now() - benchStart) / 1000).toFixed(0).padStart(3)} s] ${text}\n`);
const fixed = (value: number, digits = 1) => value.toFixed(digits);
const ms = (value: number) => Math.round(value).toString();
const table = (header: string[], rows: (string | number)[][]) =>
  [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");

interface LoadRow {
  topology: string;
  nodes: number;
  resources: number;
  programMs: number;
  baselineMs: number;
  ownMs: number;
  processMs: number;
}

/** Least-squares line through (x, y): slope, intercept and R². */
function linearFit(points: [number, number][]) {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const ssTot = points.reduce((s, [, y]) => s + (y - my) ** 2, 0);
  const ssRes = points.reduce((s, [x, y]) => s + (y - (intercept + slope * x)) ** 2, 0);
  return { slope, intercept, r2: ssTot === 0 ? 1 : 1 - ssRes / ssTot };
}

async function main(): Promise<void> {
  const began = performance.now();
  const machine = `${os.cpus().length} x ${os.cpus()[0]?.model.trim() ?? "cpu"}, Node ${process.version}, ${os.platform()}`;

  // 1. Deployment simulation
  progress("deployment simulation (warm-up)");
  await simulateOnce(topologyNamed(LOADER_TOPOLOGY), { kind: "virtual" });
  const simulations: SimulationResult[] = [];
  for (const topology of BENCH_TOPOLOGIES) {
    progress(`deployment simulation: ${topology.name}`);
    simulations.push(await simulate(topology, SIM_RUNS, SCALE_MS));
  }

  // 2. Program load time
  const loadPairs: { loader: Loader; target: string }[] = [
    { loader: "tsx", target: "baseline" },
    ...BENCH_TOPOLOGIES.map((t) => ({ loader: "tsx" as Loader, target: t.name })),
  ];
  const tsxSeries = await measureLoads(loadPairs, LOAD_RUNS, progress);
  const loaderPairs = (loader: Loader) => [
    { loader, target: "baseline" },
    { loader, target: LOADER_TOPOLOGY },
  ];
  const loaderSeries: LoadSeries[] = [];
  for (const loader of OTHER_LOADERS) {
    const runs = loader === "ts-node-check-cold" ? TYPECHECK_RUNS : LOADER_RUNS;
    loaderSeries.push(...(await measureLoads(loaderPairs(loader), runs, progress)));
  }
  const series = (list: LoadSeries[], loader: Loader, target: string) => {
    const found = list.find((s) => s.loader === loader && s.target === target);
    if (found === undefined) throw new Error(`no load series ${loader} ${target}`);
    return found;
  };
  const baselineMs = series(tsxSeries, "tsx", "baseline").medianMs;
  const loadRows: LoadRow[] = BENCH_TOPOLOGIES.map((t) => {
    const s = series(tsxSeries, "tsx", t.name);
    return {
      topology: t.name,
      nodes: t.controlPlanes + t.workers,
      resources: s.resources ?? 0,
      programMs: s.medianMs,
      baselineMs,
      ownMs: s.medianMs - baselineMs,
      processMs: s.processMedianMs,
    };
  });
  const fit = linearFit(loadRows.map((r) => [r.nodes, r.ownMs]));
  const loaders = (["tsx", ...OTHER_LOADERS] as Loader[]).map((loader) => {
    const list = loader === "tsx" ? tsxSeries : loaderSeries;
    const program = series(list, loader, LOADER_TOPOLOGY);
    const baseline = series(list, loader, "baseline");
    return {
      loader,
      programMs: program.medianMs,
      baselineMs: baseline.medianMs,
      ownMs: program.medianMs - baseline.medianMs,
      processMs: program.processMedianMs,
      runs: program.runs.length,
    };
  });

  // 3. Infisical
  progress("Infisical traffic");
  const infisical: InfisicalTraffic[] = [];
  for (const size of INFISICAL_FOLDER_SIZES) infisical.push(await measureInfisical(size));

  // Targets
  const base = simulations.find((s) => s.topology === LOADER_TOPOLOGY) as SimulationResult;
  const ratioHolds = simulations.every((s) => s.ratio <= TARGETS.ratio);
  const flatHolds = simulations.every((s) => s.scheduleSeconds <= base.scheduleSeconds + 1e-9);
  const own32 = loadRows.find((r) => r.topology === LOADER_TOPOLOGY) as LoadRow;
  const ownHolds = own32.ownMs / 1000 < TARGETS.ownLoadSeconds;
  const linearHolds = fit.slope > 0 && fit.r2 >= 0.9;
  const twoRequests = infisical.every((i) => i.httpRequests === 2);
  const verdict = (holds: boolean) => (holds ? "holds" : "FAILS");

  const md: string[] = [];
  md.push(`# Castle benchmark\n`);
  md.push(`Machine: ${machine}. Produced by \`npm run bench\` in ${fixed((performance.now() - began) / 1000)} s.\n`);
  md.push(`## 1. Deployment simulation (modelled first \`pulumi up\`)\n`);
  md.push(
    table(
      [
        "topology (cp+wk)",
        "resources",
        "invokes",
        "schedule (s)",
        "program CPU (s)",
        "simulated up (s)",
        "lower bound (s)",
        "ratio",
        `scaled clock ${SCALE_MS} ms/s (s)`,
        "scaled ratio",
      ],
      simulations.map((s) => [
        s.topology,
        s.resources,
        s.invokes,
        fixed(s.scheduleSeconds),
        fixed(s.programCpuSeconds, 2),
        fixed(s.simulatedSeconds),
        fixed(s.lowerBoundSeconds),
        fixed(s.ratio, 3),
        fixed(s.scaled.seconds),
        fixed(s.scaled.ratio, 3),
      ]),
    ),
  );
  md.push("");
  const path32 = base.criticalPath;
  md.push(`Critical path found (${LOADER_TOPOLOGY}; the same at every topology unless listed below):\n`);
  md.push(
    table(
      ["step", "resource / invoke", "modelled (s)", "start (s)", "end (s)", "on essential chain"],
      path32.map((step) => [
        step.label,
        step.name || "(before the program)",
        fixed(step.modelled),
        fixed(step.start),
        fixed(step.end),
        ESSENTIAL_CHAIN.some((t) => stepOf(t).label === step.label) ? "yes" : "**no: added by the program**",
      ]),
    ),
  );
  md.push("");
  for (const s of simulations) {
    const same =
      s.criticalPath.map((p) => p.label).join() === path32.map((p) => p.label).join()
        ? "same steps"
        : "DIFFERENT steps";
    md.push(
      `- ${s.topology}: ${same}; modelled along the path ${fixed(s.criticalPathModelledSeconds)} s; steps not on the essential chain: ${s.extraSteps.join(", ") || "none"}`,
    );
  }
  md.push("");
  md.push(
    `Modelled durations (bench/model.ts), lower bound ${fixed(lowerBoundSeconds())} s along the essential chain:\n`,
  );
  md.push(
    table(
      ["type / function token", "step", "s", "why"],
      STEPS.filter((s) => s.seconds > 0).map((s) => [`\`${stepKey(s)}\``, s.label, s.seconds, s.why]),
    ),
  );
  md.push("");
  md.push(`## 2. Program load time (fresh process each, median of ${LOAD_RUNS}, tsx)\n`);
  md.push(
    table(
      [
        "topology",
        "nodes",
        "resources",
        "start -> last registration (ms)",
        "baseline: deps loaded (ms)",
        "program's own (ms)",
        "whole process (ms)",
      ],
      loadRows.map((r) => [
        r.topology,
        r.nodes,
        r.resources,
        ms(r.programMs),
        ms(r.baselineMs),
        ms(r.ownMs),
        ms(r.processMs),
      ]),
    ),
  );
  md.push("");
  md.push(
    `Program's own time ~ ${ms(fit.intercept)} ms + ${fixed(fit.slope)} ms per node (least squares, R² ${fixed(fit.r2, 3)}).\n`,
  );
  md.push(`Loaders (${LOADER_TOPOLOGY}, fresh process each, median):\n`);
  md.push(
    table(
      [
        "loader",
        "runs",
        "start -> last registration (ms)",
        "baseline (ms)",
        "program's own (ms)",
        "whole process (ms)",
      ],
      loaders.map((l) => [l.loader, l.runs, ms(l.programMs), ms(l.baselineMs), ms(l.ownMs), ms(l.processMs)]),
    ),
  );
  md.push("");
  md.push(`## 3. Infisical traffic per run (stand-in, one castle fetch)\n`);
  md.push(
    table(
      ["secrets in folder", "HTTP requests", "connections", "request bytes", "response bytes", "total bytes"],
      infisical.map((i) => [
        i.secretsInFolder,
        `${i.httpRequests} (${Object.entries(i.byRoute)
          .map(([route, n]) => `${n} ${route}`)
          .join(", ")})`,
        i.connections,
        i.requestBytes,
        i.responseBytes,
        i.requestBytes + i.responseBytes,
      ]),
    ),
  );
  md.push("");
  md.push(`## Targets\n`);
  md.push(
    table(
      ["target", "result", "verdict"],
      [
        [
          `simulated up / lower bound <= ${TARGETS.ratio} at every topology`,
          simulations.map((s) => `${s.topology}: ${fixed(s.ratio, 3)}`).join(", "),
          verdict(ratioHolds),
        ],
        [
          "simulated up does not grow with workers (schedule)",
          simulations.map((s) => `${s.topology}: ${fixed(s.scheduleSeconds)} s`).join(", "),
          verdict(flatHolds),
        ],
        [
          `program's own load time < ${TARGETS.ownLoadSeconds} s at ${LOADER_TOPOLOGY}`,
          `${ms(own32.ownMs)} ms`,
          verdict(ownHolds),
        ],
        [
          "program's own load time grows linearly with nodes",
          `${fixed(fit.slope)} ms/node, R² ${fixed(fit.r2, 3)}`,
          verdict(linearHolds),
        ],
        [
          "2 Infisical requests per run, any folder size",
          infisical.map((i) => i.httpRequests).join(", "),
          verdict(twoRequests),
        ],
      ],
    ),
  );
  md.push("");
  const text = md.join("\n");
  process.stdout.write(`${text}\n`);
  if (QUICK) {
    progress("quick run: nothing written (bench/results.* hold the full run's numbers)");
    return;
  }

  const dir = __dirname;
  writeFileSync(path.join(dir, "results.md"), `${text}\n`);
  writeFileSync(
    path.join(dir, "results.json"),
    `${JSON.stringify(
      {
        machine,
        knobs: { SIM_RUNS, SCALE_MS, LOAD_RUNS, LOADER_RUNS, TYPECHECK_RUNS },
        simulation: {
          lowerBoundSeconds: lowerBoundSeconds(),
          essentialChain: ESSENTIAL_CHAIN,
          model: STEPS,
          results: simulations,
        },
        load: { tsx: loadRows, fit, loaders, series: [...tsxSeries, ...loaderSeries] },
        infisical,
        targets: { ratioHolds, flatHolds, ownHolds, linearHolds, twoRequests },
        seconds: (performance.now() - began) / 1000,
      },
      null,
      2,
    )}\n`,
  );
  progress(`wrote ${path.relative(process.cwd(), path.join(dir, "results.json"))} and results.md`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
