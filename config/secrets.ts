/**
 * The secrets the castle reads from Infisical while it runs, and their hand-over to the program
 * wrapped in `pulumi.secret`, so they reach resources and state only as secrets.
 */
import * as pulumi from "@pulumi/pulumi";

/** Plain secret values, as fetched and validated. Never printed, logged or put in an error. */
export interface CastleSecretValues {
  /** etcd secretbox key: standard base64 of exactly 32 bytes. */
  secretboxKey: string;
  /** Proxmox API token id, `user@realm!tokenname`. */
  proxmoxTokenId: string;
  /** Proxmox API token secret. */
  proxmoxTokenSecret: string;
  /** Client id of the cluster's own read-only Infisical machine identity (for ESO). */
  esoClientId: string;
  /** Client secret of that identity. */
  esoClientSecret: string;
  /**
   * Client id of the Git credential's own read-only Infisical machine identity (for the `flux-system`
   * SecretStore): fetched only when `castle:gitops.credentials` is set.
   */
  gitopsClientId?: string;
  /** Client secret of that identity, likewise. */
  gitopsClientSecret?: string;
}

/** The same values as secret Outputs: the only form in which they enter the Pulumi program. */
export type CastleSecrets = { readonly [K in keyof CastleSecretValues]: pulumi.Output<string> };

export function asPulumiSecrets(values: CastleSecretValues): CastleSecrets {
  return {
    secretboxKey: pulumi.secret(values.secretboxKey),
    proxmoxTokenId: pulumi.secret(values.proxmoxTokenId),
    proxmoxTokenSecret: pulumi.secret(values.proxmoxTokenSecret),
    esoClientId: pulumi.secret(values.esoClientId),
    esoClientSecret: pulumi.secret(values.esoClientSecret),
    ...(values.gitopsClientId !== undefined && values.gitopsClientSecret !== undefined
      ? {
          gitopsClientId: pulumi.secret(values.gitopsClientId),
          gitopsClientSecret: pulumi.secret(values.gitopsClientSecret),
        }
      : {}),
  };
}
