/**
 * Everything the program needs before it touches a resource: the validated stack configuration, the
 * secrets from Infisical (wrapped in `pulumi.secret`), and the guard rails. This is the only module the
 * composition root reads configuration through; on any problem it throws before a resource exists.
 */

import type * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { secretboxKeyFingerprint } from "../lib/secretbox";
import { CastleGuardError, type GuardedValues, guardProblems, previousGuardedValues } from "./guards";
import { gitopsIdentityProblem, sharedIdentityProblem } from "./identity";
import { fetchCastleSecrets } from "./infisical";
import { credentialsFromEnv, tokenIdentityId } from "./infisical-credentials";
import { secretRolesOf } from "./infisical-errors";
import { withHostOverrides } from "./overrides";
import { loadCastleConfig } from "./pulumi-config";
import { castleProxmoxProvider, readCastleVms, runningCastleProblems } from "./running-castle";
import type { CastleConfig } from "./schema";
import { asPulumiSecrets, type CastleSecrets } from "./secrets";

/** What the composition root builds the castle from. */
export interface CastleInputs {
  stack: string;
  config: CastleConfig;
  /** Every secret, as secret Outputs. */
  secrets: CastleSecrets;
  /** Non-secret values the guard rails compare run to run; exported as stack outputs. */
  guarded: GuardedValues;
  /** The Proxmox provider the guard read the running VMs through; built by the program when absent. */
  proxmoxProvider?: proxmox.Provider;
}

export interface LoadOptions {
  /** Environment holding the Infisical credentials. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Directory holding the project's stack files (cross-stack rules). Default: the working directory. */
  projectDir?: string;
}

/** Reads config, fetches secrets, applies the guard rails. Throws before anything is created. */
export async function loadCastle(options: LoadOptions = {}): Promise<CastleInputs> {
  const stack = pulumi.getStack();
  const config = withHostOverrides(stack, loadCastleConfig(options.projectDir), options.env);
  const credentials = credentialsFromEnv(options.env);
  const values = await fetchCastleSecrets(config.infisical, credentials, { roles: secretRolesOf(config) });

  // With an access token the program's client id is unknown: `castle doctor` then compares the
  // identity ids of both identities' tokens (it logs in as ESO's identity; `up` does not).
  const shared = sharedIdentityProblem({
    stack: stack,
    program: {
      clientId: credentials.clientId,
      identityId: credentials.accessToken && tokenIdentityId(credentials.accessToken),
    },
    eso: { clientId: values.esoClientId },
    allowShared: config.guards.allowSharedInfisicalIdentity,
  });
  if (shared) throw new CastleGuardError(shared);
  const gitopsShared =
    values.gitopsClientId === undefined
      ? undefined
      : gitopsIdentityProblem({
          stack,
          program: {
            clientId: credentials.clientId,
            identityId: credentials.accessToken && tokenIdentityId(credentials.accessToken),
          },
          cluster: { clientId: values.esoClientId },
          gitops: { clientId: values.gitopsClientId },
        });
  if (gitopsShared) throw new CastleGuardError(gitopsShared);

  const guarded: GuardedValues = {
    fingerprint: secretboxKeyFingerprint(values.secretboxKey),
    contract: config.talos.contract,
  };
  const secrets = asPulumiSecrets(values);
  // The guard reads what runs on Proxmox (first line) and the stack's outputs (second line) before any
  // castle resource is registered; only the Proxmox provider it reads through exists by then.
  const proxmoxProvider = castleProxmoxProvider(config, secrets);
  const [observed, previous] = await Promise.all([
    readCastleVms(stack, config, proxmoxProvider),
    previousGuardedValues(),
  ]);
  const problems = [
    ...runningCastleProblems(stack, config, observed, previous, guarded),
    ...guardProblems(stack, previous, guarded),
  ];
  if (problems.length > 0) {
    throw new CastleGuardError(`refusing to touch stack "${stack}":\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }

  if (config.proxmox.insecureSkipTlsVerify) {
    pulumi.log.warn(
      `stack "${stack}": TLS verification of the Proxmox API (${config.proxmox.endpoint}) is OFF (castle:proxmox.insecureSkipTlsVerify). The API token travels to whoever answers; turn it back on once the node has a trusted certificate.`,
    );
  }
  return { stack, config, secrets, guarded, proxmoxProvider };
}
