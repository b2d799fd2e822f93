import * as pulumi from "@pulumi/pulumi";
import { secretboxKeyProblem } from "../lib/secret-formats";
import { renderSecretboxPatch, secretboxKeyFingerprint } from "../lib/secretbox";

export interface SecretboxEncryptionArgs {
  /**
   * The etcd secretbox key: standard base64 of exactly 32 random bytes (44 characters, one `=`),
   * from Infisical. Treated as secret whether or not it arrives wrapped.
   */
  key: pulumi.Input<string>;
}

/**
 * Encryption at rest of the cluster's Kubernetes Secrets in etcd, with a key the castle brings
 * (from Infisical) instead of the one `talos.machine.Secrets` generates: its source of truth is
 * Infisical, not Pulumi state, it is set at creation, and an etcd snapshot restored into a rebuilt cluster
 * stays readable. It is still in the stack's state, encrypted by the stack's secrets provider: inside the
 * inputs of the control planes' config applies (their machine configuration). Talos passes the key to kube-apiserver's `secretbox`
 * provider: XSalsa20-Poly1305 (NaCl secretbox), not AES-GCM.
 *
 * Owns nothing in the cloud: it checks the key and produces the control-plane config patch and a
 * fingerprint. It does not rotate keys: Talos v1.13 holds one secretbox key, always named `key2`,
 * so the key of a running cluster must never change.
 */
export class SecretboxEncryption extends pulumi.ComponentResource {
  /** Control-plane config patch setting `cluster.secretboxEncryptionSecret` (secret). */
  public readonly configPatch: pulumi.Output<string>;
  /** `sha256:<16 hex>` of the decoded key, not secret: shows which key a stack uses without revealing it. */
  public readonly fingerprint: pulumi.Output<string>;

  constructor(name: string, args: SecretboxEncryptionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("castle:index:SecretboxEncryption", name, {}, opts);

    const refuse = (problem: string) =>
      new Error(
        `SecretboxEncryption "${name}": the secretbox key ${problem}. ` +
          "It must be standard base64 of exactly 32 bytes (44 characters ending in '=').",
      );
    // A plain string is checked now; a secret Output when its value arrives (during preview too,
    // since the key is fetched before the program runs). Neither error quotes the key.
    if (typeof args.key === "string") {
      const problem = secretboxKeyProblem(args.key);
      if (problem) throw refuse(problem);
    }
    const key = pulumi.secret(args.key).apply((value) => {
      const problem = secretboxKeyProblem(value);
      if (problem) throw refuse(problem);
      return value;
    });

    this.configPatch = pulumi.secret(key.apply(renderSecretboxPatch));
    // Deliberately not secret: 64 bits of the SHA-256 of a uniformly random 256-bit key say nothing
    // usable about the key (no preimage, no brute force of a 2^256 space), and an operator needs
    // to see which key a stack runs with (did it change? is it the one in Infisical?) without opening a secret.
    this.fingerprint = pulumi.unsecret(key.apply(secretboxKeyFingerprint));

    this.registerOutputs({ configPatch: this.configPatch, fingerprint: this.fingerprint });
  }
}
