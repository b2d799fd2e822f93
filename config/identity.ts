/**
 * Least privilege between the castle's two Infisical identities: the program's, which reads the
 * Proxmox token and the secretbox key, and the cluster's, which ESO uses for the apps' secrets. Pure: read
 * by the program before anything is registered and by `castle doctor`, which must not load the Pulumi SDK.
 */

/** What is known of an Infisical machine identity: its Universal Auth client id, its identity id. */
export interface IdentityRef {
  clientId?: string;
  /** The identity's id, as Infisical's access tokens carry it. */
  identityId?: string;
}

/**
 * Least privilege: ESO must run with the cluster's own read-only identity, never with the identity
 * this program uses (which can read the Proxmox token and the secretbox key). Two identities are the
 * same when their client ids are, or the identity ids their access tokens carry.
 */
export function sharedIdentityProblem({
  stack,
  program,
  eso,
  allowShared,
}: {
  stack: string;
  program: IdentityRef;
  eso: IdentityRef;
  /** `castle:guards.allowSharedInfisicalIdentity`: the stack accepts the risk. */
  allowShared: boolean;
}): string | undefined {
  const sameClient = program.clientId !== undefined && program.clientId === eso.clientId;
  const sameIdentity = program.identityId !== undefined && program.identityId === eso.identityId;
  if (allowShared || !(sameClient || sameIdentity)) return undefined;
  const how = sameClient
    ? "is the same identity this program logs in with (INFISICAL_CLIENT_ID)"
    : `is the same identity (${program.identityId}) as the one whose access token this program uses (INFISICAL_TOKEN)`;
  return (
    `stack "${stack}": the ESO machine identity (secret castle:infisical.secretNames.esoClientId) ${how}. ` +
    "That would give every workload that can use the ClusterSecretStore read access to the Proxmox token and the secretbox key. " +
    "Create a separate read-only machine identity for the cluster, or set castle:guards.allowSharedInfisicalIdentity: true to accept the risk."
  );
}

/**
 * The Git credential's identity must be its own: not the program's (which reads the castle's folder) and
 * not the cluster's (which every namespace the ClusterSecretStore allows can use). Either would let
 * whoever holds it read the fleet repository's credential, and write access to that repository is
 * cluster-admin through Flux. No setting accepts this risk.
 */
export function gitopsIdentityProblem({
  stack,
  program,
  cluster,
  gitops,
}: {
  stack: string;
  program: IdentityRef;
  cluster: IdentityRef;
  gitops: IdentityRef;
}): string | undefined {
  const same = (a: IdentityRef) =>
    (a.clientId !== undefined && a.clientId === gitops.clientId) ||
    (a.identityId !== undefined && a.identityId === gitops.identityId);
  const whose = same(program)
    ? "the identity this program logs in with"
    : same(cluster)
      ? "the cluster's identity (castle:infisical.secretNames.esoClientId)"
      : undefined;
  if (whose === undefined) return undefined;
  return (
    `stack "${stack}": the Git credential's machine identity (secret castle:infisical.secretNames.gitopsClientId) is ${whose}. ` +
    "The fleet repository's credential must be readable by an identity of its own, which may read castle:gitops.secretsPath only: " +
    "create a separate read-only machine identity for it in Infisical and store its Universal Auth credentials under the gitopsClientId and gitopsClientSecret names."
  );
}
