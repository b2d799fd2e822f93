/**
 * Deployment simulation: the real program under the mock runtime, where every registration and invoke
 * answers only after its modelled duration (bench/model.ts). The Infisical fetch and the guard read
 * happen before the program registers anything, so they are a fixed delay before the call.
 *
 * Two clocks:
 * - `virtual` (the result): a discrete-event clock. A delay is a promise queued at `now + duration`;
 *   once the program has nothing left to do (the event loop turns over with no new registration or
 *   invoke), the clock jumps to the earliest queued answer and releases it. The program's own CPU time
 *   costs no modelled time there, so it is measured separately (the run's wall time) and added at real
 *   speed, as an upper bound (it may overlap with waiting).
 * - `scaled`: real sleeps, one modelled second = `msPerSecond` ms. Simple, but the program's CPU time is
 *   charged at 1/scale: at 5 ms per modelled second, 100 ms of CPU reads as 20 modelled seconds.
 *
 * Each registration and invoke is put on a timeline (when it reached the mock, when it answered). The
 * critical path is read back from it: start at the last step to finish and repeatedly step to what it
 * waited for, i.e. among the things it could have waited for, the one that finished last before it
 * arrived. For a custom resource those are its recorded dependencies, its provider, its parent (a
 * child's registration waits for its parent's URN) and any invoke (the record does not say which invoke
 * results an input came from); for an invoke or a component (whose providers map is not recorded), anything.
 */
import { type RecordedResource, startMocks } from "../offline/mock-runtime";
import { offlineMocks } from "../offline/offline-provider";
import { ESSENTIAL_CHAIN, lowerBoundSeconds, PRE_PROGRAM, preProgramSeconds, stepOf } from "./model";
import { castleInputs, runCastle } from "./run-castle";
import { BASE_STACK, type Topology } from "./topologies";

export type Clock = { kind: "virtual" } | { kind: "scaled"; msPerSecond: number };

export interface TimelineEvent {
  /** Resource URN, or `invoke:<token>#<seq>`. */
  id: string;
  kind: "resource" | "invoke";
  token: string;
  /** Resource name; for an invoke, the function name and its order. */
  name: string;
  /** Modelled seconds since the run began (the pre-program steps come first). */
  arrived: number;
  finished: number;
  /** Order of arrivals and answers, to break ties of equal times. */
  arrivalSeq: number;
  finishSeq: number;
  /** What this event may have waited for; undefined: anything (see the module comment). */
  waitsOn?: Set<string>;
}

export interface PathStep {
  label: string;
  name: string;
  /** Modelled duration of the step, seconds. */
  modelled: number;
  /** When it started and finished, in modelled seconds since the run began. */
  start: number;
  end: number;
  /** Modelled seconds between what it waited for finishing and this step starting. */
  gap: number;
}

export interface SimulationRun {
  clock: Clock["kind"];
  /** Time of the last answer on the modelled clock, seconds. */
  modelledSeconds: number;
  /** Wall time of the run, milliseconds (for the virtual clock: the program's own CPU time). */
  wallMs: number;
  resources: number;
  invokes: number;
  criticalPath: PathStep[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function flatUrn(ref: string): string {
  // Provider references are `<urn>::<id>`; parents are `type::name`. Both become the harness's flat URNs.
  if (ref.startsWith("urn:")) {
    const parts = ref.slice(0, ref.lastIndexOf("::")).split("::");
    return `urn:pulumi:${BASE_STACK}::castle::${(parts[2] ?? "").split("$").pop()}::${parts.slice(3).join("::")}`;
  }
  const [type, name] = ref.split("::");
  return `urn:pulumi:${BASE_STACK}::castle::${type}::${name}`;
}

function waitsOn(resource: RecordedResource): Set<string> | undefined {
  if (!resource.custom) return undefined;
  return new Set([
    ...resource.dependencies,
    ...(resource.provider ? [flatUrn(resource.provider)] : []),
    ...(resource.parent ? [flatUrn(resource.parent)] : []),
  ]);
}

/** Walks back from the last step to finish; see the module comment. */
function criticalChain(events: TimelineEvent[]): TimelineEvent[] {
  const later = (a: TimelineEvent, b: TimelineEvent) =>
    b.finished > a.finished || (b.finished === a.finished && b.finishSeq > a.finishSeq) ? b : a;
  const chain: TimelineEvent[] = [];
  let current: TimelineEvent | undefined = events.reduce(later);
  while (current !== undefined) {
    const at: TimelineEvent = current;
    chain.unshift(at);
    current = events
      .filter(
        (e) =>
          e.finishSeq < at.arrivalSeq &&
          e.finished <= at.arrived &&
          (at.waitsOn === undefined || e.kind === "invoke" || at.waitsOn.has(e.id)),
      )
      .reduce<TimelineEvent | undefined>((best, e) => (best === undefined ? e : later(best, e)), undefined);
  }
  return chain;
}

/** One simulated `pulumi up` of `topology`. */
export async function simulateOnce(topology: Topology, clock: Clock): Promise<SimulationRun> {
  const events: TimelineEvent[] = [];
  const queued: { at: number; release: () => void }[] = [];
  let virtualNow = 0;
  let seq = 0;
  let started = 0;
  const now = () => (clock.kind === "virtual" ? virtualNow : (performance.now() - started) / clock.msPerSecond);
  const wait = (seconds: number) =>
    clock.kind === "virtual"
      ? new Promise<void>((release) => queued.push({ at: virtualNow + seconds, release }))
      : sleep(seconds * clock.msPerSecond);

  const harness = startMocks(
    offlineMocks({
      stack: BASE_STACK,
      async delay(kind, token) {
        // The mock records the registration or invoke synchronously just before calling this hook.
        const resource = kind === "resource" ? harness.resources[harness.resources.length - 1] : undefined;
        const invoke = kind === "invoke" ? harness.invokes[harness.invokes.length - 1] : undefined;
        const event: TimelineEvent = {
          id: resource ? resource.urn : `invoke:${token}#${invoke?.seq}`,
          kind,
          token,
          name: resource ? resource.name : `${token.split(":").pop()} #${invoke?.seq}`,
          arrived: now(),
          finished: Number.NaN,
          arrivalSeq: seq++,
          finishSeq: Number.NaN,
          waitsOn: resource ? waitsOn(resource) : undefined,
        };
        events.push(event);
        const seconds = stepOf(token, event.name).seconds;
        if (seconds > 0) await wait(seconds);
        event.finished = now();
        event.finishSeq = seq++;
      },
    }),
  );
  const inputs = await castleInputs(topology);
  // Loaded before the clock starts: module loading waits on file I/O, which the virtual clock cannot see.
  await import("../index");
  started = performance.now();
  if (clock.kind === "virtual") virtualNow = preProgramSeconds();
  else await sleep(preProgramSeconds() * clock.msPerSecond);
  const wallStart = performance.now();
  const programStart = now();

  let done = false;
  let failure: unknown;
  const run = runCastle(inputs).then(
    () => {
      done = true;
    },
    (error: unknown) => {
      done = true;
      failure = error;
    },
  );
  if (clock.kind === "virtual") {
    for (;;) {
      // Let the program run until it has nothing left to do but wait for a queued answer.
      let seen = -1;
      for (let quiet = 0; quiet < 3; ) {
        await turn();
        const activity = seq + queued.length;
        quiet = activity === seen ? quiet + 1 : 0;
        seen = activity;
      }
      if (done) break;
      if (queued.length === 0) {
        // Nothing modelled in flight: the program is waiting on real I/O (or is stuck); give it time.
        if (performance.now() - wallStart > 60_000) {
          throw new Error(`${topology.name}: the program stalled with nothing modelled in flight`);
        }
        await sleep(1);
        continue;
      }
      virtualNow = Math.min(...queued.map((q) => q.at));
      for (const due of queued.filter((q) => q.at === virtualNow)) {
        queued.splice(queued.indexOf(due), 1);
        due.release();
      }
    }
  }
  await run;
  if (failure !== undefined) throw failure;
  const wallMs = performance.now() - wallStart;

  const chain = criticalChain(events);
  const pre: PathStep[] = [];
  let t = 0;
  for (const token of PRE_PROGRAM) {
    const step = stepOf(token);
    pre.push({ label: step.label, name: "", modelled: step.seconds, start: t, end: t + step.seconds, gap: 0 });
    t += step.seconds;
  }
  const criticalPath = [
    ...pre,
    ...chain.map((event, i) => ({
      label: stepOf(event.token, event.name).label,
      name: event.name,
      modelled: stepOf(event.token, event.name).seconds,
      start: event.arrived,
      end: event.finished,
      gap: event.arrived - (i === 0 ? programStart : (chain[i - 1] as TimelineEvent).finished),
    })),
  ]
    // Components take no time: they are on the path only as the parent their children wait for.
    .filter((step) => step.modelled > 0);
  return {
    clock: clock.kind,
    modelledSeconds: Math.max(...events.map((e) => e.finished)),
    wallMs,
    resources: harness.resources.length,
    invokes: harness.invokes.length,
    criticalPath,
  };
}

export interface SimulationResult {
  topology: string;
  resources: number;
  invokes: number;
  /** Length of the modelled schedule on the virtual clock, seconds (the same every run). */
  scheduleSeconds: number;
  /** The program's own CPU time during the run (median wall time of the virtual-clock runs), seconds. */
  programCpuSeconds: number;
  /** Simulated `pulumi up`: schedule plus the program's CPU time at real speed, seconds. */
  simulatedSeconds: number;
  lowerBoundSeconds: number;
  /** simulatedSeconds / lowerBoundSeconds. */
  ratio: number;
  /** The same run on the scaled wall clock (program CPU charged at 1/scale), modelled seconds. */
  scaled: { msPerSecond: number; seconds: number; ratio: number; wallMs: number };
  /** Sum of the modelled durations along the critical path found. */
  criticalPathModelledSeconds: number;
  /** Steps on the critical path that are not on the essential chain (waiting the program adds). */
  extraSteps: string[];
  criticalPath: PathStep[];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** `runs` virtual-clock deployments of `topology` and one on the scaled clock. */
export async function simulate(topology: Topology, runs: number, msPerSecond: number): Promise<SimulationResult> {
  const virtual: SimulationRun[] = [];
  for (let i = 0; i < runs; i++) virtual.push(await simulateOnce(topology, { kind: "virtual" }));
  const scaled = await simulateOnce(topology, { kind: "scaled", msPerSecond });
  const first = virtual[0] as SimulationRun;
  const schedules = new Set(virtual.map((r) => r.modelledSeconds.toFixed(6)));
  if (schedules.size > 1)
    throw new Error(`${topology.name}: virtual-clock schedules differ run to run: ${[...schedules]}`);
  const scheduleSeconds = first.modelledSeconds;
  const programCpuSeconds = median(virtual.map((r) => r.wallMs)) / 1000;
  const simulatedSeconds = scheduleSeconds + programCpuSeconds;
  const bound = lowerBoundSeconds();
  const essentialLabels = new Set(ESSENTIAL_CHAIN.map((token) => stepOf(token).label));
  return {
    topology: topology.name,
    resources: first.resources,
    invokes: first.invokes,
    scheduleSeconds,
    programCpuSeconds,
    simulatedSeconds,
    lowerBoundSeconds: bound,
    ratio: simulatedSeconds / bound,
    scaled: {
      msPerSecond,
      seconds: scaled.modelledSeconds,
      ratio: scaled.modelledSeconds / bound,
      wallMs: scaled.wallMs,
    },
    criticalPathModelledSeconds: first.criticalPath.reduce((sum, step) => sum + step.modelled, 0),
    extraSteps: first.criticalPath.filter((step) => !essentialLabels.has(step.label)).map((step) => step.label),
    criticalPath: first.criticalPath,
  };
}
