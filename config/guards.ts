/**
 * Guard rails that stop a run before anything is touched.
 *
 * Re-keying: Talos encrypts Kubernetes Secrets in etcd with the secretbox key
 * (`cluster.secretboxEncryptionSecret`, XSalsa20-Poly1305). A running cluster given another key can no
 * longer read any Secret it stored: kube-apiserver logs "failed to decrypt data ... output array was
 * not large enough for encryption" and every controller that needs a Secret crash-loops. The machine
 * secrets' Talos version contract is just as fatal to change on a live cluster. So when the stack's
 * running cluster was created with another key (compared by fingerprint, never by value) or another
 * contract, `pulumi preview` and `pulumi up` stop, and the way out is to recreate the cluster.
 *
 * First line (running-castle.ts): the marks on the running control-plane VMs, read from Proxmox.
 * Second line (here): the stack's own outputs, read through a StackReference to itself: on the first
 * `up` there are none; after `pulumi destroy` there are none again (so `castle recreate` passes); while
 * a cluster runs they are what it was built with. Outputs alone are not enough: they are written only
 * after a successful `up`.
 */
import * as pulumi from "@pulumi/pulumi";
import { STACK_OUTPUTS } from "../lib/stack-outputs";

/** Stack output names that the guard reads back on the next run. Keep them stable. */
export const GUARDED_OUTPUTS = {
  fingerprint: STACK_OUTPUTS.secretboxKeyFingerprint,
  contract: STACK_OUTPUTS.talosContract,
} as const;

export interface GuardedValues {
  /** Non-secret fingerprint of the secretbox key. */
  fingerprint: string;
  /** Talos version contract of the machine secrets, e.g. `v1.13`. */
  contract: string;
}

export class CastleGuardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CastleGuardError";
  }
}

/**
 * What would break a live cluster, comparing the values it was created with (`previous`, from the
 * stack's outputs; undefined fields when there is no cluster) against this run's.
 */
export function guardProblems(stack: string, previous: Partial<GuardedValues>, current: GuardedValues): string[] {
  const problems: string[] = [];
  const recreate = `To replace the cluster on purpose: npx castle recreate ${stack} (pulumi destroy, then pulumi up with the new value). Otherwise restore the previous value.`;
  if (previous.fingerprint !== undefined && previous.fingerprint !== current.fingerprint) {
    problems.push(
      `the secretbox key in Infisical (fingerprint ${current.fingerprint}) is not the key stack "${stack}"'s running cluster was created with (fingerprint ${previous.fingerprint}). ` +
        "Applying it would make every Kubernetes Secret in etcd unreadable (kube-apiserver: 'failed to decrypt data'). " +
        recreate,
    );
  }
  if (previous.contract !== undefined && previous.contract !== current.contract) {
    problems.push(
      `the Talos version contract changed from ${previous.contract} to ${current.contract} (castle:talos.contract); stack "${stack}"'s running cluster's machine secrets were generated for ${previous.contract}, and changing the contract regenerates or invalidates them. ` +
        recreate,
    );
  }
  return problems;
}

/** The organization every stack of a DIY backend (local directory, S3...) reports. */
export const DIY_ORGANIZATION = "organization";

/**
 * The name a StackReference to the stack itself takes. On a DIY backend the legacy layout (state
 * written before project-scoped stacks, `.pulumi/stacks/<stack>.json`) accepts only the bare stack
 * name, and the project layout reads a bare name as a stack of the current project: so the bare name
 * there. Pulumi Cloud takes `<org>/<project>/<stack>`.
 */
export function selfReferenceName(organization: string, project: string, stack: string): string {
  return organization === DIY_ORGANIZATION ? stack : `${organization}/${project}/${stack}`;
}

/** The values the stack's running cluster was created with: its own previous outputs. */
export async function previousGuardedValues(): Promise<Partial<GuardedValues>> {
  const self = new pulumi.StackReference("self", {
    name: selfReferenceName(pulumi.getOrganization(), pulumi.getProject(), pulumi.getStack()),
  });
  const read = async (name: string) => {
    const details = await self.getOutputDetails(name);
    const value = details.value ?? details.secretValue;
    return typeof value === "string" ? value : undefined;
  };
  return { fingerprint: await read(GUARDED_OUTPUTS.fingerprint), contract: await read(GUARDED_OUTPUTS.contract) };
}
