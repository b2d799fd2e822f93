/**
 * `castle doctor <stack>`: everything `castle check` does, then logs in to Infisical with the machine
 * identity from the environment (or its access token, `INFISICAL_TOKEN`) and checks each of the castle's
 * secrets, with the same fetch the program uses. Prints a secret-by-secret table (never a value) and the
 * number of HTTP requests.
 *
 * Then it proves the wall between the cluster and the castle: it refuses what `up` refuses (ESO using
 * the program's identity), logs in as the cluster's identity with the ESO credentials just fetched, and
 * checks that the identity can read its own folder (`castle:eso.secretsPath`) and can NOT list the
 * castle's folder (`castle:infisical.secretPath`, which holds the secretbox key and the Proxmox token).
 * With Git credentials, it then proves the Git credential's wall (doctor-gitops.ts).
 */

import { gitCredentialKeys } from "../config/gitops";
import { sharedIdentityProblem } from "../config/identity";
import {
  type CastleSecretsDiagnosis,
  diagnoseCastleSecrets,
  type FetchOptions,
  type FolderAccess,
  probeIdentityWall,
} from "../config/infisical";
import { credentialsFromEnv, INFISICAL_ENV } from "../config/infisical-credentials";
import { InfisicalError, secretRolesOf } from "../config/infisical-errors";
import { CastleConfigError, otherCastleFolders } from "../config/load";
import { withHostOverrides } from "../config/overrides";
import type { CastleConfig } from "../config/schema";
import { check, formatTable } from "./check";
import { nodeForBarePulumi } from "./deploy";
import { gitopsWall } from "./doctor-gitops";
import { breach, identityWallLines } from "./folder-access";
import { reachable } from "./reach";

/** Where the command writes, and the environment it reads credentials from. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
}

/** The per-secret table: name, which castle secret it is, ok or the problem. */
function secretsTable(report: CastleSecretsDiagnosis): string[] {
  const header = ["secret", "used as", "status"];
  const rows = report.secrets.map((s) => [s.name, s.role, s.status]);
  return formatTable(header, rows);
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
  io.out(nodeForBarePulumi(io.env, stack).line);
  let credentials: ReturnType<typeof credentialsFromEnv>;
  let config: CastleConfig;
  try {
    credentials = credentialsFromEnv(io.env);
    config = withHostOverrides(stack, checked.config, io.env);
  } catch (error) {
    if (!(error instanceof InfisicalError || error instanceof CastleConfigError)) throw error;
    io.err(`castle doctor: ${error.message}`);
    return 1;
  }
  const settings = config.infisical;

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
  const report = await diagnoseCastleSecrets(settings, credentials, { ...options, roles: secretRolesOf(config) });
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
  const others = otherColorFolders(projectDir, stack);
  const cluster = await clusterWall(stack, config, report, credentials, io, options, others);
  if (cluster !== 0) return cluster;
  return gitopsWall(stack, config, report, credentials, io, options, others);
}

/**
 * The identity check after the secrets: exit code 0 when the cluster's identity is walled in. `others`:
 * the castle folders of the project's other colors, which it must not read either.
 */
async function clusterWall(
  stack: string,
  config: CastleConfig,
  report: CastleSecretsDiagnosis,
  credentials: ReturnType<typeof credentialsFromEnv>,
  io: CliIo,
  options: FetchOptions,
  others: { stack: string; folder: string }[],
): Promise<number> {
  const settings = config.infisical;
  const eso = report.esoCredentials;
  if (eso === undefined) return 0; // not reached: every secret was ok
  const { esoClientId, esoClientSecret } = settings.secretNames;
  const shared = sharedIdentityProblem({
    stack: stack,
    program: { clientId: credentials.clientId, identityId: report.programIdentityId },
    eso: { clientId: eso.clientId },
    allowShared: config.guards.allowSharedInfisicalIdentity,
  });
  if (shared) {
    io.err(`castle doctor: ${shared}`);
    return 1;
  }

  io.out("");
  io.out(
    `cluster identity (${esoClientId}/${esoClientSecret}): may read ${config.eso.secretsPath}, must not read ${settings.secretPath}`,
  );
  if (others.length > 0) {
    io.out(
      `  and must not read the other colors' castle folders: ${others.map((o) => `${o.folder} (${o.stack})`).join(", ")}`,
    );
  }
  // Its own folder with values (as ESO reads it), then the castle's folder and the other colors' (names only).
  const probe = await probeIdentityWall(
    settings,
    {
      who: `the cluster's identity (${esoClientId}/${esoClientSecret})`,
      credentialNames: `the secrets ${esoClientId} and ${esoClientSecret} in ${settings.secretPath}`,
      ...eso,
    },
    { own: config.eso.secretsPath, forbidden: [settings.secretPath, ...others.map((o) => o.folder)] },
    { ...options, siteUrl: credentials.siteUrl ?? settings.siteUrl },
  );
  const identity = probe.identityId ? `identity ${probe.identityId}` : "the identity";
  const sharedById = sharedIdentityProblem({
    stack: stack,
    program: { identityId: report.programIdentityId },
    eso: { clientId: eso.clientId, identityId: probe.identityId },
    allowShared: config.guards.allowSharedInfisicalIdentity,
  });
  for (const line of identityWallLines(probe, ["castle folder ", ...others.map(() => "other castle  ")])) {
    io.out(line);
  }
  io.out(`${probe.httpRequests} HTTP request${probe.httpRequests === 1 ? "" : "s"}`);
  if (probe.error) {
    io.err(probe.error.message);
    return 1;
  }
  if (sharedById) {
    io.err(`castle doctor: ${sharedById}`);
    return 1;
  }

  const where = `project ${settings.projectId}, environment "${settings.environment}" at ${credentials.siteUrl ?? settings.siteUrl}`;
  const scope = `In Infisical (Project > Access Control > Machine Identities), give ${identity} a role whose secret permissions carry the condition "Secret Path" equal to ${config.eso.secretsPath} (or a glob below it), and no other role or additional privilege that reaches ${settings.secretPath}`;
  const problems: string[] = [];
  const { own } = probe;
  const [castle, ...otherAccess] = probe.forbidden;
  if (castle && breach(castle)) {
    problems.push(
      `the cluster's ${identity} (credentials ${esoClientId}/${esoClientSecret}) can list the castle's folder ${settings.secretPath} (${where}): any namespace allowed to use the ClusterSecretStore could copy the secretbox key, the Proxmox token and ESO's own credentials with one ExternalSecret (a key starting with / is read as an absolute path). ${scope}. Then run castle doctor ${stack} again.`,
    );
  } else if (castle?.outcome === "failed") {
    problems.push(
      `could not tell whether the cluster's ${identity} can read the castle's folder ${settings.secretPath}: ${castle.error?.message ?? "no answer"}`,
    );
  }
  problems.push(...crossColorWallProblems(otherAccess, others, identity, where, scope, stack));
  problems.push(...sharedKeyProblems(own, report.castleKeyNames, config, where));
  problems.push(...gitCredentialInClusterFolderProblems(own, config, where));
  if (own?.outcome === "denied") {
    problems.push(
      `the cluster's ${identity} may not read its own folder ${config.eso.secretsPath} (${where}; HTTP 403): the ClusterSecretStore would not become Ready. ${scope}.`,
    );
  } else if (own?.outcome === "missing") {
    problems.push(
      `the cluster's folder ${config.eso.secretsPath} (castle:eso.secretsPath) does not exist in ${where} (HTTP 404): create it in Infisical and put the application secrets there.`,
    );
  } else if (own?.outcome === "listed" && own.hiddenValues) {
    problems.push(
      `the cluster's ${identity} may list ${config.eso.secretsPath} but not read the values: grant Read Value on that folder.`,
    );
  } else if (own?.outcome === "failed") {
    problems.push(
      `could not read the cluster's folder ${config.eso.secretsPath}: ${own.error?.message ?? "no answer"}`,
    );
  }
  if (problems.length > 0) {
    for (const problem of problems) io.err(`castle doctor: ${problem}`);
    return 1;
  }
  io.out("the cluster's identity reads its own folder only");
  return 0;
}

/** The castle folders of the project's other stacks (same Infisical project and environment). */
function otherColorFolders(projectDir: string, stack: string): { stack: string; folder: string }[] {
  try {
    return otherCastleFolders(projectDir, stack);
  } catch (error) {
    if (error instanceof CastleConfigError) return []; // this stack's file was checked already
    throw error;
  }
}

/**
 * The wall between colors: the cluster's identity must be refused on every other stack's castle folder,
 * which holds that castle's secretbox key and Proxmox token (likely the same Proxmox).
 */
function crossColorWallProblems(
  accesses: readonly FolderAccess[],
  others: { stack: string; folder: string }[],
  identity: string,
  where: string,
  scope: string,
  stack: string,
): string[] {
  const problems: string[] = [];
  for (const access of accesses) {
    const owner = others.find((o) => o.folder === access.path)?.stack ?? "another stack";
    if (breach(access)) {
      problems.push(
        `the cluster's ${identity} can list the castle folder ${access.path} of stack "${owner}" (${where}): this cluster could copy that castle's secretbox key and Proxmox token with one ExternalSecret. ${scope}. Then run castle doctor ${stack} again.`,
      );
    } else if (access.outcome === "failed") {
      problems.push(
        `could not tell whether the cluster's ${identity} can read the castle folder ${access.path} of stack "${owner}": ${access.error?.message ?? "no answer"}`,
      );
    }
  }
  return problems;
}

/**
 * A secret of the castle's folder copied into the cluster's folder puts it within reach of every
 * namespace allowed to use the store: names only are compared, values are never read for this.
 */
function sharedKeyProblems(
  own: FolderAccess | undefined,
  castleKeyNames: string[] | undefined,
  config: CastleConfig,
  where: string,
): string[] {
  if (own?.outcome !== "listed" || castleKeyNames === undefined) return [];
  const castleKeys = new Set(castleKeyNames);
  const shared = [...new Set(own.names ?? [])].filter((name) => castleKeys.has(name)).sort();
  if (shared.length === 0) return [];
  return [
    `the cluster's folder ${config.eso.secretsPath} holds ${shared.join(", ")}, which the castle's folder ${config.infisical.secretPath} holds too (${where}): a castle secret copied where the cluster reads. Delete ${shared.length === 1 ? "it" : "them"} from ${config.eso.secretsPath} (and rotate ${shared.length === 1 ? "it" : "them"} if ${shared.length === 1 ? "it was" : "they were"} a copy), or give the cluster's secret another name`,
  ];
}

/**
 * A Git credential (the token or the SSH identity a stack's castle:gitops.credentials names) left in the
 * cluster's folder, where every namespace the ClusterSecretStore admits can copy it with one ExternalSecret:
 * it belongs in the Git credential's own folder alone. The CA certificate and known_hosts are public, so
 * they may be in both.
 */
function gitCredentialInClusterFolderProblems(
  own: FolderAccess | undefined,
  config: CastleConfig,
  where: string,
): string[] {
  const folder = config.gitops?.secretsPath;
  if (own?.outcome !== "listed" || folder === undefined) return [];
  const present = new Set(own.names ?? []);
  const credentials = gitCredentialKeys(config).filter(
    (key) => (key.configKey.endsWith(".token") || key.configKey.endsWith(".sshIdentity")) && present.has(key.name),
  );
  return credentials.map(
    (key) =>
      `the cluster's folder ${config.eso.secretsPath} holds ${key.name} (${key.configKey}), the fleet repository's credential (${where}): every namespace the ClusterSecretStore admits could copy it, and write access to that repository is cluster-admin through Flux. Keep it in the Git credential's folder ${folder} alone: delete it from ${config.eso.secretsPath}, and rotate it if it was read from there`,
  );
}
