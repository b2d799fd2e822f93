/**
 * The scope of one Infisical fetch: its deadline and its request count.
 *
 * Why this wraps globals: `@infisical/sdk` 5.0.2 takes only `siteUrl` (no fetch, no agent, no
 * signal, no timeout). It retries 429 and network errors with a 1+2+4+8 s backoff, aborts each
 * attempt only after 10 s and never times out a stalled body. To cut every request of one fetch
 * off at its deadline, count the requests sent, and keep the SDK's retry timers from holding the
 * process open, the global `fetch` and `setTimeout` are replaced while at least one fetch runs,
 * and each call finds its own fetch through AsyncLocalStorage. Calls made outside a scope go
 * straight to the real functions; the globals are restored when the last scope settles.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { setTimeout as startTimer } from "node:timers";

export interface FetchScope {
  /** Real HTTP requests sent. */
  requests: number;
  /** Aborted when the deadline passes. */
  readonly controller: AbortController;
  /** Last HTTP status seen, and the last connection error code: what the deadline message reports. */
  lastStatus?: number;
  lastNetworkError?: string;
  /** Timers the SDK started (per-attempt timeouts, retry backoff) while this fetch runs. */
  readonly timers: Set<NodeJS.Timeout>;
}

const scopes = new AsyncLocalStorage<FetchScope>();
let installed = 0;
let realFetch: typeof globalThis.fetch | undefined;
let realSetTimeout: typeof globalThis.setTimeout | undefined;

function scopedFetch(input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> {
  const original = realFetch ?? fetch;
  const scope = scopes.getStore();
  if (scope === undefined) return original(input, init);
  // Past the deadline: answer with a network-error response so the SDK gives up at once instead of
  // retrying (the caller has already been told).
  if (scope.controller.signal.aborted) return Promise.resolve(Response.error());
  scope.requests++;
  // What the deadline message reports is about the request in flight; a 429 stays relevant while retried.
  if (scope.lastStatus !== 429) scope.lastStatus = undefined;
  const signals = [scope.controller.signal, ...(init?.signal ? [init.signal] : [])];
  return original(input, { ...init, signal: AbortSignal.any(signals) }).then(
    (response) => {
      scope.lastStatus = response.status;
      scope.lastNetworkError = undefined;
      return response;
    },
    (error: unknown) => {
      if (scope.controller.signal.aborted) return Response.error();
      const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
      scope.lastNetworkError =
        typeof cause?.code === "string" ? cause.code : ((error as Error | undefined)?.name ?? "error");
      throw error;
    },
  );
}

/** Lets `timers` record the SDK's timers, so none of them keeps the process alive after a deadline. */
function scopedSetTimeout(this: unknown, ...args: Parameters<typeof setTimeout>): NodeJS.Timeout {
  const original = realSetTimeout ?? startTimer;
  const timer = original.apply(this, args) as NodeJS.Timeout;
  const scope = scopes.getStore();
  if (scope !== undefined) {
    if (scope.controller.signal.aborted) timer.unref();
    else scope.timers.add(timer);
  }
  return timer;
}

function install(): void {
  if (installed++ > 0) return;
  realFetch = globalThis.fetch;
  realSetTimeout = globalThis.setTimeout;
  globalThis.fetch = scopedFetch as typeof globalThis.fetch;
  globalThis.setTimeout = Object.assign(scopedSetTimeout, {
    __promisify__: realSetTimeout.__promisify__,
  }) as typeof globalThis.setTimeout;
}

function uninstall(): void {
  if (--installed > 0) return;
  if (realFetch !== undefined) globalThis.fetch = realFetch;
  if (realSetTimeout !== undefined) globalThis.setTimeout = realSetTimeout;
  realFetch = undefined;
  realSetTimeout = undefined;
}

/**
 * Runs `work` inside `scope`: its requests are counted and aborted with the scope's controller, its
 * timers recorded. The SDK may keep retrying after the deadline: its requests then fail at once
 * and the globals are restored when it settles.
 */
export function runInScope<T>(scope: FetchScope, work: () => Promise<T>): Promise<T> {
  install();
  const running = scopes.run(scope, work);
  running.then(uninstall, uninstall);
  return running;
}
