import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parseAllDocuments } from "yaml";
import {
  isSecretMarked,
  plaintextOccurrences,
  resolved,
  settle,
  startMocks,
  unwrapSecrets,
} from "./support/pulumi-mocks";

const SECRETBOX_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const CLIENT = { caCertificate: "Y2E=", clientCertificate: "Y3J0", clientKey: "Y2xpZW50LWtleQ==" };
const MACHINE_SECRETS = {
  certs: {
    etcd: { cert: "c", key: "k" },
    k8s: { cert: "c", key: "k" },
    k8sAggregator: { cert: "c", key: "k" },
    k8sServiceaccount: { key: "k" },
    os: { cert: "c", key: "k" },
  },
  cluster: { id: "i", secret: "s" },
  secrets: { bootstrapToken: "b", secretboxEncryptionSecret: "generated" },
  trustdinfo: { token: "t" },
};
const KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n";

/** Order in which the engine is asked for things: `resource:<type>` / `invoke:<token>`. */
const order: string[] = [];
let healthStarted: () => void = () => {};
const healthStartedPromise = new Promise<void>((resolve) => {
  healthStarted = resolve;
});
let releaseHealth: () => void = () => {};
const healthGate = new Promise<void>((resolve) => {
  releaseHealth = resolve;
});

const harness = startMocks({
  delay: (kind, token) => {
    order.push(`${kind}:${token}`);
  },
  states: {
    "talos:machine/secrets:Secrets": () => ({ clientConfiguration: CLIENT, machineSecrets: MACHINE_SECRETS }),
    "talos:cluster/kubeconfig:Kubeconfig": () => ({ kubeconfigRaw: KUBECONFIG }),
  },
  invokes: {
    "talos:machine/getConfiguration:getConfiguration": (inputs) => ({
      ...inputs,
      id: "config",
      machineConfiguration: `machine:\n  type: ${inputs.machineType}\n`,
    }),
    "talos:client/getConfiguration:getConfiguration": (inputs) => ({
      ...inputs,
      id: "talosconfig",
      talosConfig: "context: castle\n",
    }),
    "talos:cluster/getHealth:getHealth": async (inputs) => {
      healthStarted();
      await healthGate;
      return { ...inputs, id: "cluster_health" }; // terraform-provider-talos v0.11.0 pkg/talos/talos_cluster_health_data_source.go
    },
  },
});

class Vm extends pulumi.CustomResource {
  constructor(name: string) {
    super("test:index:Vm", name, {});
  }
}

type Module = typeof import("../components/talos-cluster");
let mod: Module;

const NETWORK = { cidr: "10.10.20.0/24", gateway: "10.10.20.1", dns: ["10.10.20.1"], vip: "10.10.20.5" };
const NODES = [
  { hostname: "cp-1", ip: "10.10.20.11", role: "controlPlane" as const },
  { hostname: "cp-2", ip: "10.10.20.12", role: "controlPlane" as const },
  { hostname: "cp-3", ip: "10.10.20.13", role: "controlPlane" as const },
  { hostname: "wk-1", ip: "10.10.20.21", role: "worker" as const },
  { hostname: "wk-2", ip: "10.10.20.22", role: "worker" as const },
];
const CP_IPS = ["10.10.20.11", "10.10.20.12", "10.10.20.13"];
const SCHEMATIC = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515";
const IMAGE = `factory.talos.dev/nocloud-installer/${SCHEMATIC}:v1.13.9`;

function baseArgs(): ConstructorParameters<Module["TalosCluster"]>[1] {
  return {
    clusterName: "castle",
    clusterEndpoint: "https://10.10.20.5:6443",
    talosVersion: "v1.13.9",
    contract: "v1.13",
    kubernetesVersion: "1.36.3",
    installDisk: "/dev/sda",
    installerImage: IMAGE,
    network: { ...NETWORK, dns: [...NETWORK.dns] },
    nodes: NODES.map((n) => ({ ...n, vm: {} as pulumi.Resource })),
    healthTimeoutSeconds: 600,
  };
}

const T = {
  cluster: "castle:index:TalosCluster",
  secrets: "talos:machine/secrets:Secrets",
  apply: "talos:machine/configurationApply:ConfigurationApply",
  bootstrap: "talos:machine/bootstrap:Bootstrap",
  kubeconfig: "talos:cluster/kubeconfig:Kubeconfig",
  getConfiguration: "talos:machine/getConfiguration:getConfiguration",
  talosconfig: "talos:client/getConfiguration:getConfiguration",
  health: "talos:cluster/getHealth:getHealth",
};

describe("TalosCluster", () => {
  let cluster: InstanceType<Module["TalosCluster"]>;
  const vms = new Map<string, Vm>();

  before(async () => {
    mod = await import("../components/talos-cluster");
    for (const node of NODES) vms.set(node.hostname, new Vm(`vm-${node.hostname}`));
    cluster = new mod.TalosCluster("c", {
      ...baseArgs(),
      installerImage: pulumi.output(IMAGE),
      nodes: NODES.map((n) => ({ ...n, vm: vms.get(n.hostname) as Vm })),
      controlPlanePatches: [pulumi.secret(`cluster:\n  secretboxEncryptionSecret: ${SECRETBOX_KEY}\n`)],
      healthTimeoutSeconds: 420,
    });
  });

  it("kubeconfig resolves only after the health check passed", async () => {
    let kubeconfigResolved = false;
    cluster.kubeconfig.apply(() => {
      kubeconfigResolved = true;
    });
    await healthStartedPromise;
    // The kubeconfig resource is already registered (the check waits for it), the check has not passed.
    assert.ok(order.includes(`resource:${T.kubeconfig}`));
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(kubeconfigResolved, false);
    releaseHealth();
    assert.equal(await resolved(cluster.kubeconfig), KUBECONFIG);
    await settle();
  });

  it("creates exactly: the component, the secrets, one apply per node, one bootstrap, one kubeconfig", () => {
    const talosResources = harness.resources.filter((r) => r.type !== "test:index:Vm");
    assert.deepEqual(talosResources.map((r) => `${r.type}::${r.name}`).sort(), [
      `${T.cluster}::c`,
      `${T.kubeconfig}::c-kubeconfig`,
      `${T.bootstrap}::c-bootstrap`,
      `${T.apply}::c-cp-1`,
      `${T.apply}::c-cp-2`,
      `${T.apply}::c-cp-3`,
      `${T.apply}::c-wk-1`,
      `${T.apply}::c-wk-2`,
      `${T.secrets}::c-secrets`,
    ]);
    for (const r of talosResources.filter((r) => r.type !== T.cluster))
      assert.equal(r.parent, `${T.cluster}::c`, r.name);
    assert.deepEqual(harness.get(T.cluster, "c").inputs, {});
  });

  it("generates the secrets for the version contract", () => {
    assert.deepEqual(harness.get(T.secrets, "c-secrets").inputs, { talosVersion: "v1.13" });
  });

  it("applies each node's config on its own address, after its own VM only, all in parallel", () => {
    const applies = harness.ofType(T.apply);
    for (const node of NODES) {
      const apply = harness.get(T.apply, `c-${node.hostname}`);
      assert.equal(apply.inputs.node, node.ip);
      assert.ok(isSecretMarked(apply.inputs.machineConfigurationInput));
      assert.ok(isSecretMarked(apply.inputs.clientConfiguration), "the admin client key stays secret");
      assert.deepEqual(unwrapSecrets(apply.inputs.clientConfiguration), CLIENT);
      // A change that needs a reboot is staged, never applied to every node at once.
      assert.equal(apply.inputs.applyMode, "staged_if_needing_reboot");
      for (const other of NODES) {
        const vm = harness.get("test:index:Vm", `vm-${other.hostname}`);
        assert.equal(
          harness.dependsOn(apply, vm),
          other.hostname === node.hostname,
          `${node.hostname} -> vm ${other.hostname}`,
        );
      }
      for (const otherApply of applies)
        assert.ok(!harness.dependsOn(apply, otherApply), `${node.hostname} waits for ${otherApply.name}`);
    }
  });

  it("bootstraps the first control plane on its own address, after its apply; kubeconfig after bootstrap", () => {
    const bootstrap = harness.get(T.bootstrap, "c-bootstrap");
    assert.equal(bootstrap.inputs.node, "10.10.20.11");
    assert.equal(bootstrap.inputs.endpoint, undefined);
    assert.ok(harness.dependsOn(bootstrap, harness.get(T.apply, "c-cp-1")));
    assert.ok(!harness.dependsOn(bootstrap, harness.get(T.apply, "c-cp-2")));
    const kubeconfig = harness.get(T.kubeconfig, "c-kubeconfig");
    assert.equal(kubeconfig.inputs.node, "10.10.20.11");
    assert.ok(harness.dependsOn(kubeconfig, bootstrap));
  });

  it("generates one config per node with its patches; only control planes get the VIP and the secretbox patch", () => {
    const calls = harness.invokes.filter((i) => i.token === T.getConfiguration);
    assert.equal(calls.length, 5);
    for (const node of NODES) {
      const call = calls.find((c) =>
        (c.inputs.configPatches as string[]).some((p) => p.includes(`hostname: ${node.hostname}\n`)),
      );
      assert.ok(call, `no config for ${node.hostname}`);
      const { configPatches, machineSecrets, ...rest } = call.inputs;
      assert.deepEqual(rest, {
        clusterName: "castle",
        clusterEndpoint: "https://10.10.20.5:6443",
        machineType: node.role === "controlPlane" ? "controlplane" : "worker",
        talosVersion: "v1.13",
        kubernetesVersion: "1.36.3",
        docs: false,
        examples: false,
      });
      assert.deepEqual(machineSecrets, MACHINE_SECRETS);
      const docs = (configPatches as string[]).flatMap((p) => parseAllDocuments(p).map((d) => d.toJS()));
      const kinds = docs.map((d) => d.kind ?? (d.cluster ? "(cluster)" : "(machine)"));
      const cp = node.role === "controlPlane";
      assert.deepEqual(kinds, [
        "(machine)",
        "HostnameConfig",
        "LinkAliasConfig",
        "LinkConfig",
        "ResolverConfig",
        ...(cp ? ["Layer2VIPConfig", "(cluster)"] : []),
      ]);
      assert.deepEqual(docs[0], { machine: { install: { disk: "/dev/sda", image: IMAGE } } });
      assert.deepEqual(docs.find((d) => d.kind === "LinkConfig").addresses, [{ address: `${node.ip}/24` }]);
      if (cp) assert.equal(docs.at(-1).cluster.secretboxEncryptionSecret, SECRETBOX_KEY);
    }
  });

  it("checks health on node addresses after the kubeconfig and every apply, never through the VIP", () => {
    const calls = harness.invokes.filter((i) => i.token === T.health);
    assert.equal(calls.length, 1);
    const inputs = calls[0]?.inputs ?? {};
    assert.deepEqual(inputs, {
      clientConfiguration: CLIENT,
      controlPlaneNodes: CP_IPS,
      workerNodes: ["10.10.20.21", "10.10.20.22"],
      endpoints: CP_IPS,
      timeouts: { read: "420s" },
    });
    assert.ok(!JSON.stringify(inputs).includes(NETWORK.vip));
    const healthAt = order.indexOf(`invoke:${T.health}`);
    assert.ok(order.indexOf(`resource:${T.kubeconfig}`) < healthAt);
    assert.equal(order.slice(0, healthAt).filter((o) => o === `resource:${T.apply}`).length, 5);
  });

  it("renders the talosconfig with control-plane endpoints and every node", () => {
    const calls = harness.invokes.filter((i) => i.token === T.talosconfig);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]?.inputs, {
      clusterName: "castle",
      clientConfiguration: CLIENT,
      endpoints: CP_IPS,
      nodes: NODES.map((n) => n.ip),
    });
  });

  it("keeps every access-granting output secret, and the rest plain", async () => {
    assert.equal(await pulumi.isSecret(cluster.kubeconfig), true);
    assert.equal(await pulumi.isSecret(cluster.talosconfig), true);
    assert.equal(await pulumi.isSecret(cluster.endpoint), false);
    assert.equal(await pulumi.isSecret(cluster.healthy), false);
    assert.equal(await resolved(cluster.healthy), true);
    assert.equal(await resolved(cluster.talosconfig), "context: castle\n");
    assert.equal(await resolved(cluster.endpoint), "https://10.10.20.5:6443");
  });

  it("names the machine secrets as the resource that lives as long as the cluster", async () => {
    assert.ok(cluster.lifetime instanceof pulumi.CustomResource);
    assert.match(await resolved(cluster.lifetime.urn), /\$talos:machine\/secrets:Secrets::c-secrets$/);
  });

  it("never puts the secretbox key in plaintext into a resource input", () => {
    for (const r of harness.resources) assert.deepEqual(plaintextOccurrences(r.inputs, SECRETBOX_KEY), [], r.name);
  });
});

describe("TalosCluster's own invariants (the stack's rules are config/'s)", () => {
  it("refuses a cluster without a control plane before registering anything", async () => {
    const before = harness.resources.length;
    const args = baseArgs();
    args.nodes = args.nodes.filter((n) => n.role === "worker");
    assert.throws(
      () => new mod.TalosCluster("bad", args),
      /TalosCluster "bad": needs at least one control plane and one hostname per node/,
    );
    await settle();
    assert.equal(harness.resources.length, before);
  });

  it("refuses two nodes with one hostname (their children would share names)", () => {
    const args = baseArgs();
    args.nodes[1] = { ...args.nodes[1], hostname: args.nodes[0].hostname };
    assert.throws(() => new mod.TalosCluster("twice", args), /one hostname per node/);
  });
});
