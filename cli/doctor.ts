/**
 * `castle doctor <stack>`: everything `castle check` does, then logs in to Infisical with the machine
 * identity from the environment and checks each of the castle's secrets, with the same fetch the
 * program uses. Prints a secret-by-secret table (never a value) and the number of HTTP requests.
 */
import {
  type CastleSecretsDiagnosis,
  credentialsFromEnv,
  diagnoseCastleSecrets,
  type FetchOptions,
  INFISICAL_ENV,
  InfisicalError,
} from "../config/infisical";
import { check } from "./check";
import { reachable } from "./reach";

/** Where the command writes, and the environment it reads credentials from. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
}

/** The per-secret table: name, which castle secret it is, ok or the problem. */
export function secretsTable(report: CastleSecretsDiagnosis): string[] {
  const header = ["secret", "used as", "status"];
  const rows = report.secrets.map((s) => [s.name, s.role, s.status]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Exit code: 0 when the stack is valid and every secret is present and valid, 1 otherwise. */
export async function doctor(
  projectDir: string,
  stack: string,
  io: CliIo,
  options: FetchOptions = {},
): Promise<number> {
  const checked = check(projectDir, stack, io.out);
  if (checked.code !== 0 || checked.config === undefined) return 1;
  const settings = checked.config.infisical;

  let credentials: ReturnType<typeof credentialsFromEnv>;
  try {
    credentials = credentialsFromEnv(io.env);
  } catch (error) {
    if (!(error instanceof InfisicalError)) throw error;
    io.err(`castle doctor: ${error.message}`);
    return 1;
  }

  const site = credentials.siteUrl ?? settings.siteUrl;
  io.out("");
  io.out(
    `secrets: project ${settings.projectId}, environment "${settings.environment}", path "${settings.secretPath}" at ${site}` +
      (credentials.siteUrl ? ` (from ${INFISICAL_ENV.siteUrl})` : ""),
  );
  // Say what happens before each network step; an unreachable site fails in seconds, not after retries.
  const proxied = Boolean(io.env.HTTPS_PROXY || io.env.https_proxy);
  if (!proxied) {
    io.out(`connecting to ${new URL(site).host} ...`);
    const unreachable = await reachable(site);
    if (unreachable) {
      io.err(
        `castle doctor: Infisical at ${site} is unreachable: ${unreachable}. Check the site URL, DNS and the network`,
      );
      return 1;
    }
  }
  io.out("logging in (Universal Auth) and listing the folder's secrets ...");
  const report = await diagnoseCastleSecrets(settings, credentials, options);
  for (const line of secretsTable(report)) io.out(line);
  io.out(`${report.httpRequests} HTTP request${report.httpRequests === 1 ? "" : "s"}`);

  if (report.error) {
    io.err(report.error.message);
    return 1;
  }
  const bad = report.secrets.filter((s) => s.status !== "ok").length;
  if (bad > 0) {
    io.out(
      `${bad} of ${report.secrets.length} secrets need attention: create or fix them in Infisical, or set castle:infisical.secretNames`,
    );
    return 1;
  }
  io.out(`all ${report.secrets.length} secrets ok`);
  return 0;
}
