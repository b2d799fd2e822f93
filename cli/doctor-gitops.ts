/**
 * `castle doctor`'s proof of the Git credential's wall, for a stack with Git credentials: the Git
 * credential's identity is its own (neither the program's nor the cluster's), it reads its own folder
 * (`castle:gitops.secretsPath`, where every key `castle:gitops.credentials` names must be) and can NOT
 * list the castle's folder nor the cluster's; and the cluster's identity can NOT list the Git
 * credential's folder. Write access to the fleet repository is cluster-admin through Flux, so each of
 * these is a hole, not a warning.
 */
import { gitCredentialKeys } from "../config/gitops";
import { gitopsIdentityProblem } from "../config/identity";
import { type CastleSecretsDiagnosis, type FetchOptions, probeIdentityWall } from "../config/infisical";
import type { InfisicalCredentials } from "../config/infisical-credentials";
import type { CastleConfig } from "../config/schema";
import { breach, identityWallLines } from "./folder-access";

interface Io {
  out(line: string): void;
  err(line: string): void;
}

/**
 * Exit code 0 when the stack has no Git credentials, or when both walls hold. `otherCastles`: the castle
 * folders of the project's other colors (same Infisical project and environment), which the Git
 * credential's identity must not read either.
 */
export async function gitopsWall(
  stack: string,
  config: CastleConfig,
  report: CastleSecretsDiagnosis,
  credentials: InfisicalCredentials,
  io: Io,
  options: FetchOptions,
  otherCastles: readonly { stack: string; folder: string }[] = [],
): Promise<number> {
  const gitops = config.gitops;
  const folder = gitops?.secretsPath;
  const git = report.gitopsCredentials;
  const eso = report.esoCredentials;
  if (!gitops?.credentials || folder === undefined || git === undefined || eso === undefined) return 0;
  const settings = config.infisical;
  const names = settings.secretNames;
  const siteUrl = credentials.siteUrl ?? settings.siteUrl;
  const where = `project ${settings.projectId}, environment "${settings.environment}" at ${siteUrl}`;

  const sameByClientId = gitopsIdentityProblem({
    stack,
    program: { clientId: credentials.clientId },
    cluster: { clientId: eso.clientId },
    gitops: { clientId: git.clientId },
  });
  if (sameByClientId) {
    io.err(`castle doctor: ${sameByClientId}`);
    return 1;
  }

  const gitWho = `the Git credential's identity (${names.gitopsClientId}/${names.gitopsClientSecret})`;
  const clusterWho = `the cluster's identity (${names.esoClientId}/${names.esoClientSecret})`;
  io.out("");
  io.out(
    `${gitWho}: may read ${folder}, must not read ${[settings.secretPath, config.eso.secretsPath, ...otherCastles.map((o) => `${o.folder} (${o.stack})`)].join(", ")}`,
  );
  const gitProbe = await probeIdentityWall(
    settings,
    {
      who: gitWho,
      credentialNames: `the secrets ${names.gitopsClientId} and ${names.gitopsClientSecret} in ${settings.secretPath}`,
      ...git,
    },
    { own: folder, forbidden: [settings.secretPath, config.eso.secretsPath, ...otherCastles.map((o) => o.folder)] },
    { ...options, siteUrl },
  );
  for (const line of identityWallLines(gitProbe, [
    "castle folder ",
    "cluster folder",
    ...otherCastles.map(() => "other castle  "),
  ])) {
    io.out(line);
  }
  io.out(`${clusterWho}: must not read ${folder}`);
  const clusterProbe = await probeIdentityWall(
    settings,
    {
      who: clusterWho,
      credentialNames: `the secrets ${names.esoClientId} and ${names.esoClientSecret} in ${settings.secretPath}`,
      ...eso,
    },
    { forbidden: [folder] },
    { ...options, siteUrl },
  );
  for (const line of identityWallLines(clusterProbe, ["Git folder    "])) io.out(line);
  const requests = gitProbe.httpRequests + clusterProbe.httpRequests;
  io.out(`${requests} HTTP request${requests === 1 ? "" : "s"}`);
  for (const probe of [gitProbe, clusterProbe]) {
    if (probe.error) {
      io.err(probe.error.message);
      return 1;
    }
  }

  const sameById = gitopsIdentityProblem({
    stack,
    program: { identityId: report.programIdentityId },
    cluster: { identityId: clusterProbe.identityId },
    gitops: { identityId: gitProbe.identityId },
  });
  if (sameById) {
    io.err(`castle doctor: ${sameById}`);
    return 1;
  }

  const gitIdentity = gitProbe.identityId ? `identity ${gitProbe.identityId}` : "the identity";
  const scope = `In Infisical (Project > Access Control > Machine Identities), give the Git credential's ${gitIdentity} a role whose only secret permission carries the condition "Secret Path" equal to ${folder}, and give no other identity a permission that reaches ${folder}`;
  const problems: string[] = [];
  const [castleAccess, clusterAccess, ...otherAccess] = gitProbe.forbidden;
  otherAccess.forEach((access, i) => {
    if (breach(access)) {
      problems.push(
        `${gitWho} can list the castle folder ${access.path} of stack "${otherCastles[i]?.stack ?? "?"}" (${where}): it holds that castle's secretbox key and Proxmox token. ${scope}.`,
      );
    }
  });
  if (castleAccess && breach(castleAccess)) {
    problems.push(
      `${gitWho} can list the castle's folder ${settings.secretPath} (${where}): a copy of the fleet repository's credential would also open the secretbox key and the Proxmox token. ${scope}.`,
    );
  }
  if (clusterAccess && breach(clusterAccess)) {
    problems.push(
      `${gitWho} can list the cluster's folder ${config.eso.secretsPath} (${where}): the Git credential's identity must read its own folder only. ${scope}.`,
    );
  }
  const [gitFolderAccess] = clusterProbe.forbidden;
  if (gitFolderAccess && breach(gitFolderAccess)) {
    problems.push(
      `${clusterWho} can list the Git credential's folder ${folder} (${where}): any namespace allowed to use the ClusterSecretStore could copy the fleet repository's credential with one ExternalSecret (a key starting with / is read as an absolute path), and write access to that repository is cluster-admin through Flux. Remove from the cluster's identity every permission that reaches ${folder}.`,
    );
  }
  for (const access of [...gitProbe.forbidden, ...clusterProbe.forbidden]) {
    if (access.outcome === "failed") {
      problems.push(`could not tell whether ${access.path} is walled off: ${access.error?.message ?? "no answer"}`);
    }
  }
  const own = gitProbe.own;
  if (own?.outcome === "denied") {
    problems.push(
      `${gitWho} may not read its own folder ${folder} (${where}; HTTP 403): the SecretStore flux-git would not become Ready. ${scope}.`,
    );
  } else if (own?.outcome === "missing") {
    problems.push(
      `the Git credential's folder ${folder} (castle:gitops.secretsPath) does not exist in ${where} (HTTP 404): create it in Infisical and put the Git credentials there.`,
    );
  } else if (own?.outcome === "listed" && own.hiddenValues) {
    problems.push(`${gitWho} may list ${folder} but not read the values: grant Read Value on that folder.`);
  } else if (own?.outcome === "failed") {
    problems.push(`could not read the Git credential's folder ${folder}: ${own.error?.message ?? "no answer"}`);
  }
  if (own?.outcome === "listed") {
    const present = new Set(own.names ?? []);
    for (const key of gitCredentialKeys(config)) {
      const found = present.has(key.name);
      io.out(`${key.name} (${key.configKey}): ${found ? "ok" : "missing"} in ${folder}`);
      if (!found) {
        problems.push(
          `${key.name}, named by ${key.configKey}, is not in the Git credential's folder ${folder} (${where}): ESO could not write Flux's pull secret and the FluxInstance would not become Ready. Create it there (the program never reads it).`,
        );
      }
    }
  }
  if (problems.length > 0) {
    for (const problem of problems) io.err(`castle doctor: ${problem}`);
    return 1;
  }
  io.out("the Git credential's identity reads its own folder only, and the cluster's identity cannot read it");
  return 0;
}
