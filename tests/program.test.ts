/**
 * The whole castle program, run under the mock runtime: each stack as `pulumi up` runs it, the blue
 * stack as `pulumi preview` runs it, a change that removes objects from a stack, hosts given by the CI
 * environment, and the Git credentials the program must never touch.
 */
import assert from "node:assert/strict";
import { afterEach, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { loadStackFile, readStackFile } from "../config/load";
import { withHostOverrides } from "../config/overrides";
import { placeholder } from "../offline/offline-provider";
import { wholeProgramTests } from "./support/program-checks";
import { GET_NODES, GET_VMS, PROJECT_DIR, type ProgramRun, runProgram, sentinelSecrets } from "./support/program-run";
import { resolved, unwrapSecrets } from "./support/pulumi-mocks";

for (const stack of ["blue", "green"]) {
  describe(`the whole castle program, stack ${stack}`, () => wholeProgramTests(stack));
}

/*
 * The whole program run as `pulumi preview` runs it (the mock runtime in dry-run mode): no Talos health
 * check, and a Kubernetes provider whose kubeconfig is known, so a pull-request preview diffs the
 * Kubernetes objects of a running cluster instead of showing them all as replaced.
 */
const HEALTH = "talos:cluster/getHealth:getHealth";
const APPLY = "talos:machine/configurationApply:ConfigurationApply";
const K8S_PROVIDER = "pulumi:providers:kubernetes";
/** What the offline model answers for the Kubeconfig resource (a running cluster's, from state). */
const KUBECONFIG = placeholder("admin kubeconfig");

describe("the whole castle program as a preview", () => {
  let run: ProgramRun;

  before(async () => {
    run = await runProgram("blue", {
      preview: true,
      // The engine gives a resource that is being created no ID in a preview. Before, an invoke depending on
      // it (the health check) was skipped and its result unknown, and so was the kubeconfig gated on it.
      ids: { [APPLY]: (args) => (args.name === "talos-blue-wk-2" ? "" : `${args.name}-id`) },
    });
  });

  it("runs the blue program in dry-run mode, one config apply without an ID yet (a node being added)", () => {
    assert.equal(run.error, undefined);
    assert.equal(pulumi.runtime.isDryRun(), true);
    assert.deepEqual(run.harness.unexpectedInvokes, []);
  });

  it("makes no health-check invoke", () => {
    assert.deepEqual(
      run.harness.invokes.filter((i) => i.token === HEALTH),
      [],
    );
    // The other invokes still ran (the check is not vacuous: invokes are recorded in this mode).
    assert.ok(run.harness.invokes.some((i) => i.token === "talos:machine/getConfiguration:getConfiguration"));
  });

  it("gives the Kubernetes provider a known kubeconfig: the Kubeconfig resource's, not gated on health", () => {
    const providers = run.harness.ofType(K8S_PROVIDER);
    assert.equal(providers.length, 1);
    assert.equal(unwrapSecrets(providers[0].inputs.kubeconfig), KUBECONFIG);
  });

  it("still registers every in-cluster object on that provider", () => {
    const provider = run.harness.ofType(K8S_PROVIDER)[0];
    const inCluster = run.harness.resources.filter((r) => r.provider?.startsWith(`${provider.urn}::`));
    assert.deepEqual([...new Set(inCluster.map((r) => r.type))].sort(), [
      "kubernetes:core/v1:Namespace",
      "kubernetes:core/v1:Secret",
      "kubernetes:external-secrets.io/v1:ClusterSecretStore",
      "kubernetes:external-secrets.io/v1:ExternalSecret",
      "kubernetes:external-secrets.io/v1:SecretStore",
      "kubernetes:fluxcd.controlplane.io/v1:FluxInstance",
      "kubernetes:helm.sh/v3:Release",
    ]);
  });

  it("reports the cluster's health as unknown, not as true", async () => {
    const healthy = run.outputs.clusterHealthy as pulumi.Output<boolean>;
    assert.ok(pulumi.Output.isInstance(healthy));
    // `isKnown` is the SDK's own (untyped) flag of an Output.
    assert.equal(await (healthy as unknown as { isKnown: Promise<boolean> }).isKnown, false);
  });
});

describe("the whole castle program as a preview of an unchanged cluster", () => {
  let run: ProgramRun;

  before(async () => {
    run = await runProgram("green", { preview: true });
  });

  it("runs the green program in dry-run mode, every resource with its ID", () => {
    assert.equal(run.error, undefined);
    assert.deepEqual(run.harness.unexpectedInvokes, []);
  });

  it("makes no health-check invoke, although nothing would stop one (it would check the live nodes)", () => {
    assert.deepEqual(
      run.harness.invokes.filter((i) => i.token === HEALTH),
      [],
    );
    assert.equal(unwrapSecrets(run.harness.ofType(K8S_PROVIDER)[0].inputs.kubeconfig), KUBECONFIG);
  });
});

/*
 * What `deletedWith` means for a change that removes one in-cluster object. Pulumi's engine skips the
 * provider's delete of a resource only when its `deletedWith` target is deleted in the same operation
 * (https://www.pulumi.com/docs/iac/concepts/resources/options/deletedwith/: "skip resource deletion if
 * another resource is being deleted as well"). So the castle's in-cluster objects must be deleted with a
 * resource that a change to them never removes: the Talos machine secrets. Removing an ExternalSecret from
 * the stack then leaves the target in the program, and the engine deletes the ExternalSecret through the
 * Kubernetes API; only destroying the cluster (which deletes the machine secrets) skips those deletes.
 */
const ES = "kubernetes:external-secrets.io/v1:ExternalSecret";
const NS = "kubernetes:core/v1:Namespace";
const SECRETS = "talos:machine/secrets:Secrets";

describe("removing an ExternalSecret and its namespace from a stack", () => {
  let earlier: ProgramRun;
  let later: ProgramRun;

  before(async () => {
    earlier = await runProgram("blue");
    later = await runProgram("blue", {
      edit: (raw) => {
        const eso = raw.eso as { allowedNamespaces: string[]; externalSecrets: unknown[] };
        eso.externalSecrets = [];
        eso.allowedNamespaces = eso.allowedNamespaces.filter((ns) => ns !== "monitoring");
      },
    });
  });

  it("runs the blue program as it is, then without its ExternalSecret and the monitoring namespace", () => {
    assert.equal(earlier.error, undefined);
    assert.equal(later.error, undefined);
  });

  it("drops exactly those objects from the program", () => {
    const removed = (run: ProgramRun) =>
      run.harness.resources.filter(
        (r) => (r.type === ES && r.name.startsWith("infisical-")) || r.name.endsWith("-namespace-monitoring"),
      );
    assert.deepEqual(
      removed(earlier).map((r) => `${r.type}::${r.name}`),
      [`${NS}::infisical-namespace-monitoring`, `${ES}::infisical-monitoring/grafana-admin`],
    );
    assert.deepEqual(removed(later), []);
  });

  it("keeps their deletedWith target in the program, so the engine deletes them through the API", () => {
    const removed = earlier.harness.resources.filter(
      (r) => (r.type === ES && r.name.startsWith("infisical-")) || r.name === "infisical-namespace-monitoring",
    );
    const target = earlier.harness.ofType(SECRETS)[0];
    for (const r of removed) assert.equal(r.deletedWith, target.urn, r.name);
    // The target is still declared after the change (same URN): it is not deleted, so neither delete is skipped.
    assert.deepEqual(
      later.harness.ofType(SECRETS).map((r) => r.urn),
      [target.urn],
    );
  });
});

/*
 * Hosts from CI: `PROXMOX_VE_ENDPOINT` replaces the stack file's Proxmox endpoint for the provider (the
 * guard's reads included); `INFISICAL_SITE_URL` replaces the Infisical site for the program's fetch.
 * A pull request edits the stack file, not the CI environment.
 */
const CI_ENDPOINT = "https://pve-ci.lab.internal:8006/";

describe("hosts from the environment", () => {
  afterEach(() => {
    delete process.env.PROXMOX_VE_ENDPOINT;
  });

  it("PROXMOX_VE_ENDPOINT replaces castle:proxmox.endpoint for the provider the guard reads through", async () => {
    process.env.PROXMOX_VE_ENDPOINT = CI_ENDPOINT;
    const run = await runProgram("blue", {
      edit: (raw) => {
        (raw.proxmox as Record<string, unknown>).endpoint = "https://attacker.example:8006/";
      },
    });
    assert.equal(run.error, undefined, run.error?.message);
    const providers = run.harness.ofType("pulumi:providers:proxmoxve");
    assert.equal(providers.length, 1);
    assert.equal(providers[0].inputs.endpoint, CI_ENDPOINT);
    const provider = `${providers[0].urn}::${providers[0].name}-id`;
    const reads = run.harness.invokes.filter((i) => i.token === GET_VMS || i.token === GET_NODES);
    assert.equal(reads.length, 2, "the guard's two Proxmox reads");
    for (const read of reads) assert.ok(read.seq > providers[0].seq);
    for (const vm of run.harness.ofType("proxmoxve:index/vmLegacy:VmLegacy")) assert.equal(vm.provider, provider);
  });

  it("INFISICAL_SITE_URL is where the program fetches, whatever the stack file says", async () => {
    const run = await runProgram("blue", {
      edit: (raw) => {
        (raw.infisical as Record<string, unknown>).siteUrl = "https://attacker.example";
      },
    });
    assert.equal(run.error, undefined, run.error?.message);
    assert.equal(run.standIn.requests.length, 2, "the fetch went to the stand-in named by INFISICAL_SITE_URL");
  });

  it("an invalid PROXMOX_VE_ENDPOINT stops the run before anything, naming the variable", async () => {
    process.env.PROXMOX_VE_ENDPOINT = "http://pve.lab.internal:8006/api2/json";
    const run = await runProgram("blue");
    assert.equal(run.error?.name, "CastleConfigError");
    assert.match(
      run.error?.message ?? "",
      /stack "blue" \(environment\) has 1 problem:\n {2}- PROXMOX_VE_ENDPOINT: must use https:\/\//,
    );
    assert.deepEqual(run.harness.resources, []);
  });

  it("unset or empty, the stack file's endpoint stays", () => {
    const config = loadStackFile(PROJECT_DIR, "green");
    assert.equal(withHostOverrides("green", config, {}), config);
    assert.equal(withHostOverrides("green", config, { PROXMOX_VE_ENDPOINT: " " }), config);
  });
});

/*
 * The program never reads, holds or writes the Git credentials: ESO brings them from Infisical with the
 * Git credential's own identity. The Infisical stand-in serves a Git token (and SSH keys) that the program's own
 * identity could read; the program must not ask for them, and none may reach any resource input (not
 * even as a secret), any output or any log line. Only their key names appear, in the ExternalSecret.
 */
const GIT_TOKEN = "SENTINEL-GIT-TOKEN-glpat-7f3c9a";
const SSH_IDENTITY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nSENTINEL-SSH-IDENTITY-1d2e\n-----END OPENSSH PRIVATE KEY-----";
const SSH_KNOWN_HOSTS = "git.home.arpa ssh-ed25519 SENTINEL-KNOWN-HOSTS-AAAAC3";
const GIT_SECRETS = {
  FLUX_GIT_TOKEN: GIT_TOKEN,
  FLUX_SSH_IDENTITY: SSH_IDENTITY,
  FLUX_SSH_KNOWN_HOSTS: SSH_KNOWN_HOSTS,
};

/** Everything the run produced that leaves the program: inputs (secrets unwrapped), outputs (all), logs. */
async function everythingWritten(run: ProgramRun): Promise<string> {
  const outputs = await Promise.all(Object.values(run.outputs).map((value) => resolved(value as never)));
  return JSON.stringify([run.harness.resources.map((r) => unwrapSecrets(r.inputs)), outputs, run.logs]);
}

function assertNoGitCredential(text: string): void {
  for (const value of [GIT_TOKEN, "SENTINEL-SSH-IDENTITY-1d2e", "SENTINEL-KNOWN-HOSTS-AAAAC3"]) {
    assert.ok(!text.includes(value), `a Git credential (${value.slice(0, 20)}...) reached a resource, output or log`);
  }
}

for (const stack of ["blue", "green"]) {
  describe(`Git credentials, stack ${stack}`, () => {
    const raw = readStackFile(PROJECT_DIR, stack);
    const infisical = raw.infisical as { secretPath: string };
    const keyNames = Object.values((raw.gitops as { credentials: Record<string, string> }).credentials);

    it("in a folder of their own (the cluster's): not even requested", async () => {
      const clusterFolder = `${infisical.secretPath}/cluster`;
      const run = await runProgram(stack, { otherFolder: { secretPath: clusterFolder, secrets: GIT_SECRETS } });
      assert.equal(run.error, undefined);
      // The stand-in serves them, and the program's identity may read that folder: the program chose not to.
      assert.deepEqual(
        run.standIn.requests.map((r) => `${r.method} ${r.path} ${r.query.secretPath ?? ""} ${r.query.recursive ?? ""}`),
        ["POST /api/v1/auth/universal-auth/login  ", `GET /api/v3/secrets/raw ${infisical.secretPath} false`],
      );
      assertNoGitCredential(await everythingWritten(run));
      const pullSecret = run.harness.get(ES, "gitops-pull-secret");
      const text = JSON.stringify(unwrapSecrets(pullSecret.inputs));
      for (const name of keyNames) assert.ok(text.includes(`"key":"${name}"`), `the ExternalSecret names ${name}`);
    });

    it("even in the program's own folder, listed with it: no resource, output or log holds them", async () => {
      const run = await runProgram(stack, { values: { ...sentinelSecrets(stack), ...GIT_SECRETS } });
      assert.equal(run.error, undefined);
      assert.equal(run.standIn.requests.length, 2, "login and one list, nothing asked for the Git keys");
      assertNoGitCredential(await everythingWritten(run));
      // The check above sees the other secrets, unwrapped, where they belong: it is not vacuous.
      assert.ok((await everythingWritten(run)).includes(sentinelSecrets(stack).ESO_CLIENT_SECRET));
    });
  });
}
