/**
 * Assertions shared by the whole-program tests of each stack: the expected resource set, the order
 * that matters, and that every value from Infisical reaches resources and outputs only as a secret.
 */
import assert from "node:assert/strict";
import { before, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { GUARDED_OUTPUTS } from "../../config/guards";
import { readStackFile } from "../../config/load";
import { BUILT_IN_NAMESPACES, namespacesToCreate } from "../../lib/eso-manifests";
import { FLUX_NAMESPACE } from "../../lib/flux-manifests";
import { STACK_OUTPUTS } from "../../lib/stack-outputs";
import { isSecretMarked, plaintextOccurrences, resolved, unwrapSecrets } from "../../offline/mock-runtime";
import { checkAgainstEsoCrd } from "./eso-crd-facts";
import { checkAgainstFluxCrd } from "./flux-crd-facts";
import { PROJECT_DIR, type ProgramRun, runProgram } from "./program-run";

const T = {
  stackRef: "pulumi:pulumi:StackReference",
  proxmoxProvider: "pulumi:providers:proxmoxve",
  k8sProvider: "pulumi:providers:kubernetes",
  talosImage: "castle:index:TalosImage",
  schematic: "talos:imageFactory/schematic:Schematic",
  proxmoxNodes: "castle:index:ProxmoxNodes",
  image: "proxmoxve:download/file:File",
  vm: "proxmoxve:index/vmLegacy:VmLegacy",
  secretbox: "castle:index:SecretboxEncryption",
  talosCluster: "castle:index:TalosCluster",
  machineSecrets: "talos:machine/secrets:Secrets",
  apply: "talos:machine/configurationApply:ConfigurationApply",
  bootstrap: "talos:machine/bootstrap:Bootstrap",
  kubeconfig: "talos:cluster/kubeconfig:Kubeconfig",
  eso: "castle:index:ExternalSecrets",
  namespace: "kubernetes:core/v1:Namespace",
  release: "kubernetes:helm.sh/v3:Release",
  store: "castle:index:InfisicalStore",
  secret: "kubernetes:core/v1:Secret",
  clusterSecretStore: "kubernetes:external-secrets.io/v1:ClusterSecretStore",
  externalSecret: "kubernetes:external-secrets.io/v1:ExternalSecret",
  gitops: "castle:index:GitOps",
  fluxInstance: "kubernetes:fluxcd.controlplane.io/v1:FluxInstance",
  secretStore: "kubernetes:external-secrets.io/v1:SecretStore",
} as const;

interface StackShape {
  controlPlanes: { hostname: string; ip: string; proxmoxNode: string }[];
  workers: { hostname: string; ip: string; proxmoxNode: string }[];
  network: { vip: string };
  eso: {
    namespace?: string;
    allowedNamespaces: string[];
    readyTimeoutSeconds?: number;
    externalSecrets: { name: string; namespace: string }[];
  };
  gitops: { url: string; ref: string; path: string; secretsPath?: string; credentials?: Record<string, string> };
}

/** Registers the whole-program tests of one stack. */
export function wholeProgramTests(stack: string): void {
  const shape = readStackFile(PROJECT_DIR, stack) as unknown as StackShape;
  const nodes = [...shape.controlPlanes, ...shape.workers];
  const operatorNamespace = shape.eso.namespace ?? "external-secrets";
  const appNamespaces = namespacesToCreate(
    shape.eso.allowedNamespaces,
    shape.eso.externalSecrets.map((e) => e.namespace),
    [operatorNamespace, FLUX_NAMESPACE],
  );
  // GitOps' own objects: its namespace, the operator release, the FluxInstance, and with credentials the
  // Git credential's store, its credentials Secret and the pull secret.
  const gitopsObjects = 3 + (shape.gitops.credentials ? 3 : 0);
  let run: ProgramRun;
  const byName = (type: string) =>
    run.harness
      .ofType(type)
      .map((r) => r.name)
      .sort();

  before(async () => {
    run = await runProgram(stack);
  });

  it(`runs the ${stack} program against the Infisical stand-in`, () => {
    assert.equal(run.error, undefined);
    assert.deepEqual(run.harness.unexpectedInvokes, []);
  });

  it("registers exactly the expected resources", () => {
    const counts = Object.fromEntries(Object.values(T).map((type) => [type, run.harness.ofType(type).length]));
    const hosting = new Set(nodes.map((n) => n.proxmoxNode)).size;
    assert.deepEqual(counts, {
      [T.stackRef]: 1,
      [T.proxmoxProvider]: 1,
      [T.k8sProvider]: 1,
      [T.talosImage]: 1,
      [T.schematic]: 1,
      [T.proxmoxNodes]: 1,
      [T.image]: hosting,
      [T.vm]: nodes.length,
      [T.secretbox]: 1,
      [T.talosCluster]: 1,
      [T.machineSecrets]: 1,
      [T.apply]: nodes.length,
      [T.bootstrap]: 1,
      [T.kubeconfig]: 1,
      [T.eso]: 1,
      [T.namespace]: 1 + appNamespaces.length + 1,
      [T.release]: 2,
      [T.store]: 1,
      [T.secret]: 1 + (shape.gitops.credentials ? 1 : 0),
      [T.clusterSecretStore]: 1,
      [T.secretStore]: shape.gitops.credentials ? 1 : 0,
      [T.externalSecret]: shape.eso.externalSecrets.length + (shape.gitops.credentials ? 1 : 0),
      [T.gitops]: 1,
      [T.fluxInstance]: 1,
    });
    assert.equal(
      run.harness.resources.length,
      Object.values(counts).reduce((a, b) => a + b, 0),
    );
    assert.deepEqual(byName(T.vm), nodes.map((n) => `proxmox-${n.hostname}`).sort());
    assert.deepEqual(byName(T.apply), nodes.map((n) => `talos-${n.hostname}`).sort());
    // The schematic moved under TalosImage: its alias keeps an existing stack's schematic in place.
    const schematic = run.harness.ofType(T.schematic)[0];
    assert.equal(schematic.parent, `${T.talosImage}::talos-image`);
    assert.equal(schematic.noParentAliases, 1, "the schematic is aliased to its old place at the top level");
    for (const type of [T.vm, T.image]) {
      for (const r of run.harness.ofType(type)) assert.equal(r.parent, `${T.proxmoxNodes}::proxmox`, r.name);
    }
    for (const type of [T.apply, T.bootstrap, T.kubeconfig, T.machineSecrets]) {
      for (const r of run.harness.ofType(type)) assert.equal(r.parent, `${T.talosCluster}::talos`, r.name);
    }
  });

  it("places each VM on the Proxmox node its config names, with its own static IP", () => {
    for (const node of nodes) {
      const vm = run.harness.get(T.vm, `proxmox-${node.hostname}`);
      assert.equal(vm.inputs.nodeName, node.proxmoxNode);
      assert.match(JSON.stringify(vm.inputs.initialization), new RegExp(`"address":"${node.ip}/\\d+"`));
    }
  });

  it("orders: apply after its VM, bootstrap after the first control plane, ESO after health, store after ESO", () => {
    for (const node of nodes) {
      const apply = run.harness.get(T.apply, `talos-${node.hostname}`);
      assert.ok(run.harness.dependsOn(apply, run.harness.get(T.vm, `proxmox-${node.hostname}`)), node.hostname);
      assert.equal(apply.inputs.node, node.ip);
    }
    const first = shape.controlPlanes[0];
    const bootstrap = run.harness.ofType(T.bootstrap)[0];
    assert.equal(bootstrap.inputs.node, first.ip, "bootstrap on the first control plane's own IP");
    assert.notEqual(bootstrap.inputs.node, shape.network.vip);
    assert.ok(run.harness.dependsOn(bootstrap, run.harness.get(T.apply, `talos-${first.hostname}`)));

    const health = run.harness.invokes.find((i) => i.token === "talos:cluster/getHealth:getHealth");
    assert.ok(health, "a health check ran");
    assert.deepEqual(health.inputs.timeouts, { read: "600s" }, "with an explicit timeout");
    assert.ok(!JSON.stringify(health.inputs).includes(`"${shape.network.vip}"`), "health uses node IPs, not the VIP");
    const kubernetes = run.harness.ofType(T.k8sProvider)[0];
    assert.ok(kubernetes.seq > health.seq, "the Kubernetes provider is configured only after the health check");
    const release = run.harness.get(T.release, "external-secrets-release");
    assert.ok(release.seq > health.seq);
    assert.ok(release.provider?.startsWith(`${kubernetes.urn}::`), "the release uses the castle's Kubernetes provider");
    const store = run.harness.ofType(T.clusterSecretStore)[0];
    assert.ok(run.harness.dependsOn(store, release), "the store waits for the ESO release");
  });

  it("creates every namespace an object goes into, and each object waits for its namespace", () => {
    const namespaces = new Map(
      run.harness.ofType(T.namespace).map((ns) => [(ns.inputs.metadata as { name: string }).name, ns]),
    );
    assert.deepEqual([...namespaces.keys()].sort(), [operatorNamespace, FLUX_NAMESPACE, ...appNamespaces].sort());
    for (const allowed of shape.eso.allowedNamespaces) {
      assert.ok(namespaces.has(allowed) || BUILT_IN_NAMESPACES.includes(allowed), `allowed namespace ${allowed}`);
    }
    const namespaced = [
      ...run.harness.ofType(T.secret),
      ...run.harness.ofType(T.externalSecret),
      ...run.harness.ofType(T.release),
      ...run.harness.ofType(T.fluxInstance),
      ...run.harness.ofType(T.secretStore),
    ];
    // ESO's credentials and release, the ExternalSecrets; GitOps' release and instance (and the Git
    // credential's store, its credentials and the pull secret).
    assert.equal(namespaced.length, 2 + shape.eso.externalSecrets.length + gitopsObjects - 1);
    for (const object of namespaced) {
      const inputs = unwrapSecrets(object.inputs) as { namespace?: string; metadata?: { namespace?: string } };
      const name = inputs.metadata?.namespace ?? inputs.namespace;
      assert.ok(name, `${object.name} has a namespace`);
      const namespace = namespaces.get(name);
      assert.ok(namespace, `${object.type} ${object.name}: namespace ${name} is created`);
      assert.ok(run.harness.dependsOn(object, namespace), `${object.name} waits for namespace ${name}`);
    }
    // Namespaces need only the cluster, not the operator.
    const release = run.harness.ofType(T.release)[0];
    for (const namespace of namespaces.values()) assert.ok(!run.harness.dependsOn(namespace, release), namespace.name);
  });

  it("waits for the ClusterSecretStore and every ExternalSecret to be Ready, for a bounded time", () => {
    const awaited = [...run.harness.ofType(T.clusterSecretStore), ...run.harness.ofType(T.externalSecret)].filter(
      (object) => object.parent === `${T.store}::infisical`,
    );
    assert.equal(awaited.length, 1 + shape.eso.externalSecrets.length);
    for (const object of awaited) {
      const metadata = unwrapSecrets(object.inputs.metadata) as { annotations?: Record<string, string> };
      assert.deepEqual(
        metadata.annotations,
        {
          "pulumi.com/waitFor": "condition=Ready",
          "pulumi.com/timeoutSeconds": String(shape.eso.readyTimeoutSeconds ?? 300),
        },
        object.name,
      );
    }
  });

  it("names the cluster to the Kubernetes provider by its Talos cluster id, in plain text", () => {
    const kubernetes = run.harness.ofType(T.k8sProvider)[0];
    const identifier = kubernetes.inputs.clusterIdentifier;
    assert.equal(isSecretMarked(identifier), false);
    assert.match(String(identifier), new RegExp(`^${stack}-[0-9a-f]{16}$`));
  });

  it("deletes every in-cluster object with the cluster's machine secrets, never with a VM", () => {
    const kubernetes = run.harness.ofType(T.k8sProvider)[0];
    // Never on the provider: it would drop every object from state on a refresh while the API is down, and
    // a value set there overrides PULUMI_K8S_DELETE_UNREACHABLE, which recreate's destroy sets.
    assert.equal(kubernetes.inputs.deleteUnreachable, undefined);
    const machineSecrets = run.harness.ofType(T.machineSecrets)[0];
    const inCluster = run.harness.resources.filter((r) => r.provider?.startsWith(`${kubernetes.urn}::`));
    // The operator's namespace and release, the app namespaces, the credentials, the store, the ExternalSecrets,
    // and GitOps' objects.
    assert.equal(inCluster.length, 2 + appNamespaces.length + 2 + shape.eso.externalSecrets.length + gitopsObjects);
    for (const r of inCluster) assert.equal(r.deletedWith, machineSecrets.urn, `${r.type} ${r.name}`);
    // Nothing else is deleted with anything: the Talos and Proxmox resources are deleted for real.
    for (const r of run.harness.resources.filter((r) => !inCluster.includes(r))) {
      assert.equal(r.deletedWith, undefined, `${r.type} ${r.name}`);
    }
  });

  it("stages config changes that need a reboot and never lets Proxmox reboot a VM on update", () => {
    for (const apply of run.harness.ofType(T.apply)) assert.equal(apply.inputs.applyMode, "staged_if_needing_reboot");
    for (const vm of run.harness.ofType(T.vm)) assert.equal(vm.inputs.rebootAfterUpdate, false, vm.name);
    for (const image of run.harness.ofType(T.image)) assert.equal(image.inputs.overwriteUnmanaged, true, image.name);
  });

  it("GitOps: Flux beside ESO, the instance after ESO, the cluster's store, the operator and the pull secret, all deleted with the cluster", () => {
    const operator = run.harness.get(T.release, "gitops-operator");
    const esoRelease = run.harness.get(T.release, "external-secrets-release");
    const store = run.harness.ofType(T.clusterSecretStore)[0];
    const instance = run.harness.get(T.fluxInstance, "gitops-instance");
    const namespace = run.harness.get(T.namespace, "gitops-namespace");
    assert.equal(run.harness.dependsOn(operator, esoRelease), false, "the operator installs beside ESO");
    assert.equal(run.harness.dependsOn(operator, store), false);
    assert.ok(run.harness.dependsOn(operator, namespace));
    assert.ok(run.harness.dependsOn(instance, operator), "the instance waits for the operator's CRD");
    const pullSecret = run.harness.get(T.externalSecret, "gitops-pull-secret");
    const gitStore = run.harness.get(T.secretStore, "gitops-git-store");
    assert.ok(run.harness.dependsOn(pullSecret, gitStore), "the pull secret waits for the Git credential's store");
    assert.equal(run.harness.dependsOn(pullSecret, store), false, "not for the cluster's store");
    assert.ok(run.harness.dependsOn(gitStore, esoRelease), "the Git credential's store waits for ESO");
    assert.ok(run.harness.dependsOn(instance, pullSecret), "the instance waits for its pull secret");
    assert.ok(run.harness.dependsOn(instance, esoRelease));
    assert.ok(run.harness.dependsOn(instance, store), "the instance waits for the cluster's store");
    const gitStoreManifest = unwrapSecrets(gitStore.inputs) as {
      metadata: { namespace: string };
      spec: { provider: { infisical: { secretsScope: { secretsPath: string } } } };
    };
    assert.deepEqual(checkAgainstEsoCrd(gitStoreManifest), []);
    assert.equal(gitStoreManifest.metadata.namespace, FLUX_NAMESPACE);
    assert.equal(gitStoreManifest.spec.provider.infisical.secretsScope.secretsPath, shape.gitops.secretsPath);
    const gitStoreCredentials = run.harness.get(T.secret, "gitops-git-store-credentials");
    assert.ok(isSecretMarked(gitStoreCredentials.inputs.stringData), "the Git identity's credentials stay secret");
    assert.deepEqual(unwrapSecrets(gitStoreCredentials.inputs.stringData), {
      clientId: `SENTINEL-${stack}-GITOPS-CLIENT-ID`,
      clientSecret: `SENTINEL-${stack}-GITOPS-CLIENT-SECRET`,
    });
    const cluster = run.harness.ofType(T.machineSecrets)[0];
    for (const r of [namespace, operator, gitStore, gitStoreCredentials, pullSecret, instance]) {
      assert.equal(r.deletedWith, cluster.urn, `${r.name} is deleted with the cluster`);
      assert.ok(r.provider?.startsWith(`${run.harness.ofType(T.k8sProvider)[0].urn}::`), r.name);
    }
    const manifest = unwrapSecrets(instance.inputs) as { spec: { sync: Record<string, string> } };
    assert.deepEqual(checkAgainstFluxCrd(manifest), []);
    assert.deepEqual(checkAgainstEsoCrd(unwrapSecrets(pullSecret.inputs)), []);
    assert.equal(manifest.spec.sync.url, shape.gitops.url);
    assert.equal(manifest.spec.sync.ref, shape.gitops.ref);
    assert.equal(manifest.spec.sync.path, shape.gitops.path);
    assert.equal(manifest.spec.sync.pullSecret, "flux-system");
    assert.deepEqual(
      (unwrapSecrets(pullSecret.inputs) as { spec: { data: { remoteRef: { key: string } }[] } }).spec.data.map(
        (d) => d.remoteRef.key,
      ),
      Object.values(shape.gitops.credentials ?? {}),
      "only the key names of the stack's credentials",
    );
  });

  it("exports exactly the outputs lib/stack-outputs.ts names, which the guards and the castle command read", () => {
    assert.deepEqual(Object.keys(run.outputs).sort(), Object.values(STACK_OUTPUTS).sort());
    assert.equal(GUARDED_OUTPUTS.fingerprint, STACK_OUTPUTS.secretboxKeyFingerprint);
    assert.equal(GUARDED_OUTPUTS.contract, STACK_OUTPUTS.talosContract);
  });

  it("reads Infisical with exactly two requests: login and one list", () => {
    assert.deepEqual(
      run.standIn.requests.map((r) => `${r.method} ${r.path}`),
      ["POST /api/v1/auth/universal-auth/login", "GET /api/v3/secrets/raw"],
    );
  });

  it("lets every value from Infisical reach resources only as a secret", () => {
    for (const sentinel of run.sentinels) {
      for (const resource of run.harness.resources) {
        assert.deepEqual(
          plaintextOccurrences(resource.inputs, sentinel),
          [],
          `${resource.type} ${resource.name} holds a secret value in plaintext`,
        );
      }
      // Invoke arguments are not checked: the SDK sends them to the provider unmarked (they are never
      // stored in state) and marks the result secret when an argument was; what the results feed is a
      // resource input, checked above.
    }
    // The Talos admin client key comes from the provider, not Infisical: secret wherever it goes.
    const talosClients = run.harness.resources.filter((r) => r.inputs.clientConfiguration !== undefined);
    assert.equal(talosClients.length, nodes.length + 2, "every apply, the bootstrap and the kubeconfig");
    for (const r of talosClients) assert.ok(isSecretMarked(r.inputs.clientConfiguration), `${r.type} ${r.name}`);
    // And the values did arrive where they are needed (so the check above is not vacuous).
    const credentials = run.harness.ofType(T.secret)[0];
    assert.ok(JSON.stringify(credentials.inputs).includes(run.sentinels[4]), "ESO client secret reached its Secret");
    const provider = run.harness.ofType(T.proxmoxProvider)[0];
    assert.ok(JSON.stringify(provider.inputs).includes(run.sentinels[2]), "Proxmox token reached the provider");
  });

  it("keeps every output that grants access secret, and no secret in a plain output or a log line", async () => {
    const outputs = run.outputs as Record<string, pulumi.Output<unknown>>;
    for (const name of ["kubeconfig", "talosconfig"]) assert.equal(await pulumi.isSecret(outputs[name]), true, name);
    for (const name of [
      "endpoint",
      "secretboxKeyFingerprint",
      "storeName",
      "clusterHealthy",
      "gitopsRepository",
      "gitopsRef",
      "gitopsPath",
    ]) {
      assert.equal(await pulumi.isSecret(pulumi.output(outputs[name])), false, name);
    }
    assert.equal(await resolved(outputs.gitopsRepository), shape.gitops.url);
    assert.equal(await resolved(outputs.gitopsPath), shape.gitops.path);
    assert.equal(await resolved(outputs.gitopsRef), shape.gitops.ref);
    assert.equal(await resolved(outputs.endpoint), `https://${shape.network.vip}:6443`);
    assert.match(String(await resolved(outputs.secretboxKeyFingerprint)), /^sha256:[0-9a-f]{16}$/);
    const plain = JSON.stringify(
      await Promise.all(
        Object.entries(outputs)
          .filter(([name]) => !["kubeconfig", "talosconfig"].includes(name))
          .map(([, value]) => resolved(value)),
      ),
    );
    for (const sentinel of run.sentinels) {
      assert.ok(!plain.includes(sentinel), "a plain output holds a secret value");
      assert.ok(!run.logs.join("\n").includes(sentinel), "a log line holds a secret value");
    }
  });
}
