/**
 * A quick look before a network step: can a TCP connection to the site be opened within a few seconds?
 * An unreachable site (no DNS answer, nothing listening, packets dropped) then fails at once with the
 * reason, instead of after the HTTP client's retries.
 */
import { connect } from "node:net";

/** Seconds `reachable` waits for a connection. */
const REACH_TIMEOUT_MS = 5000;

/** Undefined when a connection to the URL's host and port opened, else why not. */
export function reachable(siteUrl: string, timeoutMs = REACH_TIMEOUT_MS): Promise<string | undefined> {
  const url = new URL(siteUrl);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || (url.protocol === "http:" ? 80 : 443));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (why: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    const timer = setTimeout(
      () =>
        done(
          `no connection to ${host}:${port} within ${timeoutMs / 1000} s (packets dropped, or a firewall in between?)`,
        ),
      timeoutMs,
    );
    socket.once("connect", () => done(undefined));
    socket.once("error", (error: NodeJS.ErrnoException) => {
      const why =
        error.code === "ENOTFOUND" || error.code === "EAI_AGAIN"
          ? `${host} does not resolve (DNS: ${error.code})`
          : error.code === "ECONNREFUSED"
            ? `nothing listens on ${host}:${port} (connection refused)`
            : `cannot connect to ${host}:${port} (${error.code ?? error.message})`;
      done(why);
    });
  });
}
