/**
 * Pins the talos bindings to the provider schema (pulumiverse/pulumi-talos v0.8.1,
 * provider/cmd/pulumi-resource-talos/schema.json): type tokens, input and output property names,
 * which inputs are sent secret, `additionalSecretOutputs`, and the plugin version and download URL
 * that reach the engine with every registration and invoke.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { isSecretMarked, resolved, settle, startMocks } from "./support/pulumi-mocks";

/** Input and output property names per resource token, from the schema's inputProperties/properties. */
const RESOURCE_SCHEMA: Record<string, { inputs: string[]; outputs: string[]; secretOutputs: string[] }> = {
  "talos:machine/secrets:Secrets": {
    inputs: ["talosVersion"],
    outputs: ["clientConfiguration", "machineSecrets", "talosVersion"],
    secretOutputs: [],
  },
  "talos:machine/configurationApply:ConfigurationApply": {
    inputs: [
      "applyMode",
      "clientConfiguration",
      "clientConfigurationWo",
      "configPatches",
      "endpoint",
      "machineConfigurationInput",
      "machineConfigurationInputWo",
      "node",
      "onDestroy",
      "timeouts",
    ],
    outputs: [
      "applyMode",
      "clientConfiguration",
      "clientConfigurationWo",
      "configPatches",
      "endpoint",
      "machineConfiguration",
      "machineConfigurationHash",
      "machineConfigurationInput",
      "machineConfigurationInputWo",
      "node",
      "onDestroy",
      "resolvedApplyMode",
      "timeouts",
    ],
    secretOutputs: [
      "clientConfigurationWo",
      "machineConfiguration",
      "machineConfigurationInput",
      "machineConfigurationInputWo",
    ],
  },
  "talos:machine/bootstrap:Bootstrap": {
    inputs: ["clientConfiguration", "clientConfigurationWo", "endpoint", "node", "timeouts"],
    outputs: ["clientConfiguration", "clientConfigurationWo", "endpoint", "node", "timeouts"],
    secretOutputs: ["clientConfigurationWo"],
  },
  "talos:cluster/kubeconfig:Kubeconfig": {
    inputs: ["certificateRenewalDuration", "clientConfiguration", "endpoint", "node", "timeouts"],
    outputs: [
      "certificateRenewalDuration",
      "clientConfiguration",
      "endpoint",
      "kubeconfigRaw",
      "kubernetesClientConfiguration",
      "node",
      "timeouts",
    ],
    secretOutputs: ["kubeconfigRaw"],
  },
  "talos:imageFactory/schematic:Schematic": { inputs: ["schematic"], outputs: ["schematic"], secretOutputs: [] },
  "pulumi:providers:talos": { inputs: ["imageFactoryUrl"], outputs: ["imageFactoryUrl"], secretOutputs: [] },
};

/** Input names per function token, from the schema's `inputs.properties`. */
const FUNCTION_INPUTS: Record<string, string[]> = {
  "talos:machine/getConfiguration:getConfiguration": [
    "clusterEndpoint",
    "clusterName",
    "configPatches",
    "docs",
    "examples",
    "kubernetesVersion",
    "machineSecrets",
    "machineType",
    "talosVersion",
  ],
  "talos:client/getConfiguration:getConfiguration": ["clientConfiguration", "clusterName", "endpoints", "nodes"],
  "talos:cluster/getHealth:getHealth": [
    "clientConfiguration",
    "controlPlaneNodes",
    "endpoints",
    "skipKubernetesChecks",
    "timeouts",
    "workerNodes",
  ],
  "talos:imageFactory/getUrls:getUrls": ["architecture", "platform", "sbc", "schematicId", "talosVersion"],
};

const echo = (extra: Record<string, unknown>) => (inputs: Record<string, unknown>) => ({
  ...inputs,
  id: "x",
  ...extra,
});
const harness = startMocks({
  invokes: {
    "talos:machine/getConfiguration:getConfiguration": echo({ machineConfiguration: "version: v1alpha1\n" }),
    "talos:client/getConfiguration:getConfiguration": echo({ talosConfig: "context: castle\n" }),
    "talos:cluster/getHealth:getHealth": echo({}),
    "talos:imageFactory/getUrls:getUrls": echo({
      urls: { installer: "factory.talos.dev/nocloud-installer/x:v1.13.9" },
    }),
  },
});

/** What the engine receives besides the inputs: plugin identity and additionalSecretOutputs. */
interface Wire {
  version: string;
  pluginDownloadURL: string;
  additionalSecretOutputs?: string[];
}
/** The parts of the SDK's gRPC requests read here. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getVersion(): string;
  getPlugindownloadurl(): string;
  getAdditionalsecretoutputsList(): string[];
}
interface InvokeRequest {
  getTok(): string;
  getVersion(): string;
  getPlugindownloadurl(): string;
}
const registrations = new Map<string, Wire>();
const invokeWire = new Map<string, Wire>();
// biome-ignore lint/suspicious/noExplicitAny: the monitor is the SDK's internal gRPC client.
const monitor = pulumi.runtime.getMonitor() as any;
const register = monitor.registerResource.bind(monitor);
monitor.registerResource = (req: RegisterRequest, callback: unknown) => {
  registrations.set(`${req.getType()}::${req.getName()}`, {
    version: req.getVersion(),
    pluginDownloadURL: req.getPlugindownloadurl(),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
  });
  return register(req, callback);
};
const invoke = monitor.invoke.bind(monitor);
monitor.invoke = (req: InvokeRequest, callback: unknown) => {
  invokeWire.set(req.getTok(), { version: req.getVersion(), pluginDownloadURL: req.getPlugindownloadurl() });
  return invoke(req, callback);
};

type Talos = typeof import("../lib/talos");
let talos: Talos;

/** Names of the Output properties the engine fills on a resource (the props bag), without urn/id. */
function outputNames(resource: pulumi.Resource): string[] {
  return Object.entries(resource)
    .filter(([key, value]) => key !== "urn" && key !== "id" && pulumi.Output.isInstance(value))
    .map(([key]) => key)
    .sort();
}

/** Compile-time: the keys of a binding class whose type is an Output, minus urn/id. */
type DeclaredOutputs<T> = Exclude<
  { [K in keyof T]-?: T[K] extends pulumi.Output<unknown> ? K : never }[keyof T],
  "urn" | "id"
>;
/** Fails to compile unless `names` lists exactly the declared outputs of T. */
function declared<T>(names: Record<DeclaredOutputs<T>, true>): string[] {
  return Object.keys(names).sort();
}

const CLIENT = { caCertificate: "Y2E=", clientCertificate: "Y3J0", clientKey: "a2V5" };
const SECRETS = {
  certs: {
    etcd: { cert: "c", key: "k" },
    k8s: { cert: "c", key: "k" },
    k8sAggregator: { cert: "c", key: "k" },
    k8sServiceaccount: { key: "k" },
    os: { cert: "c", key: "k" },
  },
  cluster: { id: "i", secret: "s" },
  secrets: { bootstrapToken: "b", secretboxEncryptionSecret: "x" },
  trustdinfo: { token: "t" },
};

const built: Record<string, pulumi.Resource> = {};
const invoked: Record<string, pulumi.Output<unknown>> = {};

describe("talos bindings", () => {
  before(async () => {
    talos = await import("../lib/talos");
    built["talos:machine/secrets:Secrets"] = new talos.machine.Secrets("s", { talosVersion: "v1.13" });
    built["talos:machine/configurationApply:ConfigurationApply"] = new talos.machine.ConfigurationApply("a", {
      applyMode: "auto",
      clientConfiguration: CLIENT,
      clientConfigurationWo: CLIENT,
      configPatches: ["machine: {}"],
      endpoint: "10.0.0.11",
      machineConfigurationInput: "version: v1alpha1",
      machineConfigurationInputWo: "version: v1alpha1",
      node: "10.0.0.11",
      onDestroy: { graceful: true, reboot: false, reset: false },
      timeouts: { create: "5m", update: "5m", delete: "5m" },
    });
    built["talos:machine/bootstrap:Bootstrap"] = new talos.machine.Bootstrap("b", {
      clientConfiguration: CLIENT,
      clientConfigurationWo: CLIENT,
      endpoint: "10.0.0.11",
      node: "10.0.0.11",
      timeouts: { create: "10m" },
    });
    built["talos:cluster/kubeconfig:Kubeconfig"] = new talos.cluster.Kubeconfig("k", {
      certificateRenewalDuration: "720h",
      clientConfiguration: CLIENT,
      endpoint: "10.0.0.11",
      node: "10.0.0.11",
      timeouts: { create: "5m", update: "5m" },
    });
    built["talos:imageFactory/schematic:Schematic"] = new talos.imageFactory.Schematic("f", {
      schematic: "customization: {}\n",
    });
    built["pulumi:providers:talos"] = new talos.Provider("p", { imageFactoryUrl: "https://factory.talos.dev" });

    invoked["talos:machine/getConfiguration:getConfiguration"] = talos.machine.getConfigurationOutput({
      clusterEndpoint: "https://10.0.0.5:6443",
      clusterName: "castle",
      configPatches: ["machine: {}"],
      docs: false,
      examples: false,
      kubernetesVersion: "1.36.3",
      machineSecrets: pulumi.secret(SECRETS),
      machineType: "controlplane",
      talosVersion: "v1.13",
    });
    invoked["talos:client/getConfiguration:getConfiguration"] = talos.client.getConfigurationOutput({
      clientConfiguration: pulumi.secret(CLIENT),
      clusterName: "castle",
      endpoints: ["10.0.0.11"],
      nodes: ["10.0.0.11"],
    });
    invoked["talos:cluster/getHealth:getHealth"] = talos.cluster.getHealthOutput({
      clientConfiguration: pulumi.secret(CLIENT),
      controlPlaneNodes: ["10.0.0.11"],
      endpoints: ["10.0.0.11"],
      skipKubernetesChecks: false,
      timeouts: { read: "10m" },
      workerNodes: ["10.0.0.21"],
    });
    invoked["talos:imageFactory/getUrls:getUrls"] = talos.imageFactory.getUrlsOutput({
      architecture: "amd64",
      platform: "nocloud",
      schematicId: "0".repeat(64),
      talosVersion: "v1.13.9",
      sbc: "",
    });
    await Promise.all(Object.values(invoked).map((o) => resolved(o)));
    await settle();
  });

  it("registers each resource under its schema token, with exactly the schema's input names", () => {
    const names: Record<string, string> = {
      "talos:machine/secrets:Secrets": "s",
      "talos:machine/configurationApply:ConfigurationApply": "a",
      "talos:machine/bootstrap:Bootstrap": "b",
      "talos:cluster/kubeconfig:Kubeconfig": "k",
      "talos:imageFactory/schematic:Schematic": "f",
      "pulumi:providers:talos": "p",
    };
    for (const [token, schema] of Object.entries(RESOURCE_SCHEMA)) {
      const recorded = harness.get(token, names[token] ?? "");
      assert.deepEqual(Object.keys(recorded.inputs).sort(), [...schema.inputs].sort(), token);
    }
    assert.equal(harness.resources.length, 6);
  });

  it("declares exactly the schema's outputs on every class, and hands each to the engine", () => {
    const compileTime: Record<string, string[]> = {
      "talos:machine/secrets:Secrets": declared<InstanceType<Talos["machine"]["Secrets"]>>({
        clientConfiguration: true,
        machineSecrets: true,
        talosVersion: true,
      }),
      "talos:machine/configurationApply:ConfigurationApply": declared<
        InstanceType<Talos["machine"]["ConfigurationApply"]>
      >({
        applyMode: true,
        clientConfiguration: true,
        clientConfigurationWo: true,
        configPatches: true,
        endpoint: true,
        machineConfiguration: true,
        machineConfigurationHash: true,
        machineConfigurationInput: true,
        machineConfigurationInputWo: true,
        node: true,
        onDestroy: true,
        resolvedApplyMode: true,
        timeouts: true,
      }),
      "talos:machine/bootstrap:Bootstrap": declared<InstanceType<Talos["machine"]["Bootstrap"]>>({
        clientConfiguration: true,
        clientConfigurationWo: true,
        endpoint: true,
        node: true,
        timeouts: true,
      }),
      "talos:cluster/kubeconfig:Kubeconfig": declared<InstanceType<Talos["cluster"]["Kubeconfig"]>>({
        certificateRenewalDuration: true,
        clientConfiguration: true,
        endpoint: true,
        kubeconfigRaw: true,
        kubernetesClientConfiguration: true,
        node: true,
        timeouts: true,
      }),
      "talos:imageFactory/schematic:Schematic": declared<InstanceType<Talos["imageFactory"]["Schematic"]>>({
        schematic: true,
      }),
      "pulumi:providers:talos": declared<InstanceType<Talos["Provider"]>>({ imageFactoryUrl: true }),
    };
    for (const [token, schema] of Object.entries(RESOURCE_SCHEMA)) {
      const want = [...schema.outputs].sort();
      assert.deepEqual(compileTime[token], want, `${token}: declared outputs`);
      assert.deepEqual(outputNames(built[token] as pulumi.Resource), want, `${token}: outputs in the props bag`);
    }
  });

  it("sends the secret inputs secret-marked, as the SDK wraps them", () => {
    const apply = harness.get("talos:machine/configurationApply:ConfigurationApply", "a").inputs;
    assert.ok(isSecretMarked(apply.machineConfigurationInput));
    assert.ok(isSecretMarked(apply.machineConfigurationInputWo));
    assert.ok(isSecretMarked(apply.clientConfigurationWo));
    assert.ok(!isSecretMarked(apply.node));
    const bootstrap = harness.get("talos:machine/bootstrap:Bootstrap", "b").inputs;
    assert.ok(isSecretMarked(bootstrap.clientConfigurationWo));
    assert.ok(!isSecretMarked(bootstrap.clientConfiguration));
  });

  it("asks the engine to keep the schema's secret outputs secret", () => {
    const names: Record<string, string> = {
      "talos:machine/secrets:Secrets": "s",
      "talos:machine/configurationApply:ConfigurationApply": "a",
      "talos:machine/bootstrap:Bootstrap": "b",
      "talos:cluster/kubeconfig:Kubeconfig": "k",
      "talos:imageFactory/schematic:Schematic": "f",
      "pulumi:providers:talos": "p",
    };
    for (const [token, schema] of Object.entries(RESOURCE_SCHEMA)) {
      const wire = registrations.get(`${token}::${names[token]}`);
      assert.deepEqual([...(wire?.additionalSecretOutputs ?? [])].sort(), [...schema.secretOutputs].sort(), token);
    }
  });

  it("sends plugin version 0.8.1 and the pulumiverse download URL with every registration and invoke", () => {
    assert.equal(talos.PLUGIN_VERSION, "0.8.1");
    assert.equal(talos.PLUGIN_DOWNLOAD_URL, "github://api.github.com/pulumiverse");
    const want = { version: "0.8.1", pluginDownloadURL: "github://api.github.com/pulumiverse" };
    const talosRegistrations = [...registrations.entries()].filter(
      ([key]) => key.startsWith("talos:") || key.startsWith("pulumi:providers:talos"),
    );
    assert.equal(talosRegistrations.length, 6);
    for (const [key, wire] of talosRegistrations) {
      assert.deepEqual({ version: wire.version, pluginDownloadURL: wire.pluginDownloadURL }, want, key);
    }
    assert.deepEqual([...invokeWire.keys()].sort(), Object.keys(FUNCTION_INPUTS).sort());
    for (const [token, wire] of invokeWire) assert.deepEqual(wire, want, token);
  });

  it("invokes each function under its schema token, with exactly the schema's input names", () => {
    for (const [token, inputs] of Object.entries(FUNCTION_INPUTS)) {
      const calls = harness.invokes.filter((i) => i.token === token);
      assert.equal(calls.length, 1, token);
      assert.deepEqual(Object.keys(calls[0]?.inputs ?? {}).sort(), [...inputs].sort(), token);
    }
  });

  it("keeps invoke results secret when an input was secret (Output-form invokes)", async () => {
    assert.ok(
      await pulumi.isSecret(invoked["talos:machine/getConfiguration:getConfiguration"] as pulumi.Output<unknown>),
    );
    assert.ok(
      await pulumi.isSecret(invoked["talos:client/getConfiguration:getConfiguration"] as pulumi.Output<unknown>),
    );
    assert.ok(await pulumi.isSecret(invoked["talos:cluster/getHealth:getHealth"] as pulumi.Output<unknown>));
    assert.ok(!(await pulumi.isSecret(invoked["talos:imageFactory/getUrls:getUrls"] as pulumi.Output<unknown>)));
    const result = (await resolved(
      invoked["talos:machine/getConfiguration:getConfiguration"] as pulumi.Output<unknown>,
    )) as {
      machineConfiguration: string;
    };
    assert.equal(result.machineConfiguration, "version: v1alpha1\n");
  });

  it("exports the module as imagefactory too, the name the published Node SDK uses", () => {
    assert.equal(talos.imagefactory, talos.imageFactory);
    assert.equal(typeof talos.imagefactory.Schematic, "function");
  });

  it("refuses a missing required node, as the SDK does", () => {
    assert.throws(
      () =>
        new talos.machine.Bootstrap(
          "no-node",
          {} as unknown as ConstructorParameters<Talos["machine"]["Bootstrap"]>[1],
        ),
      /Missing required property 'node'/,
    );
  });
});
