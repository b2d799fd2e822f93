/**
 * A quick look before a network step: does the site answer an HTTP request at all, within a few seconds?
 * An unreachable site fails at once with the reason, instead of after the HTTP client's retries and its
 * 30 s deadline: no DNS answer, nothing listening, packets dropped (an unroutable address), and also a
 * listener that accepts the connection and never answers (a wrong port, a stuck proxy), which a bare TCP
 * connection would take for reachable.
 */
import http from "node:http";
import https from "node:https";

/** Milliseconds `reachable` waits, in all: connection, TLS and the first bytes of an answer. */
export const REACH_TIMEOUT_MS = 5000;

/**
 * Undefined when the site answered an HTTP request (any status: Infisical's `/api/status` answers 200, a
 * proxy or another server may answer otherwise, and the login that follows says what is wrong), else why not.
 */
export function reachable(siteUrl: string, timeoutMs = REACH_TIMEOUT_MS): Promise<string | undefined> {
  return httpAnswers(new URL("/api/status", siteUrl), {
    timeoutMs,
    silentHint: " (is it the Infisical site, and its port? a proxy in between?)",
    unreachableHint: " (packets dropped, an unroutable address, or a firewall in between?)",
  });
}

export interface AnswerOptions {
  timeoutMs: number;
  /** false: any certificate is taken (no credential is sent); default true. */
  rejectUnauthorized?: boolean;
  /** Said after a listener that never answered, and after a connection that never came. */
  silentHint?: string;
  unreachableHint?: string;
}

/**
 * Undefined when `GET url` got any HTTP answer within `timeoutMs` (connection, TLS and the first bytes of
 * an answer), else why not, in one line.
 */
export function httpAnswers(url: URL, options: AnswerOptions): Promise<string | undefined> {
  const { timeoutMs, rejectUnauthorized = true, silentHint = "", unreachableHint = "" } = options;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || (url.protocol === "http:" ? 80 : 443));
  const seconds = `${timeoutMs / 1000} s`;
  return new Promise((resolve) => {
    let connected = false;
    const request = (url.protocol === "http:" ? http : https).request(url, {
      method: "GET",
      agent: false,
      headers: { accept: "application/json" },
      ...(url.protocol === "https:" ? { rejectUnauthorized } : {}),
    });
    const done = (why: string | undefined) => {
      clearTimeout(timer);
      request.destroy();
      resolve(why);
    };
    const timer = setTimeout(
      () =>
        done(
          connected
            ? `${host}:${port} accepted the connection but sent no answer within ${seconds}${silentHint}`
            : `no connection to ${host}:${port} within ${seconds}${unreachableHint}`,
        ),
      timeoutMs,
    );
    request.once("socket", (socket) => {
      socket.once("connect", () => {
        connected = true;
      });
    });
    request.once("response", (response) => {
      response.destroy();
      done(undefined);
    });
    // `on`, not `once`: a destroyed request may report a second error, already answered.
    request.on("error", (error: NodeJS.ErrnoException) => {
      const why =
        error.code === "ENOTFOUND" || error.code === "EAI_AGAIN"
          ? `${host} does not resolve (DNS: ${error.code})`
          : error.code === "ECONNREFUSED"
            ? `nothing listens on ${host}:${port} (connection refused)`
            : connected && url.protocol === "https:" && error.code !== "ECONNRESET"
              ? `the TLS handshake with ${host}:${port} failed (${error.code ?? error.message})`
              : `cannot connect to ${host}:${port} (${error.code ?? error.message})`;
      done(why);
    });
    request.end();
  });
}
