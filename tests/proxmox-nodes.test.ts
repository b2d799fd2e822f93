import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { type RecordedResource, resolved, settle, startMocks } from "./support/pulumi-mocks";

const harness = startMocks();

/** Resource options the harness does not record (ignoreChanges, deleteBeforeReplace), by `type::name`. */
const options = new Map<string, { ignoreChanges: string[]; deleteBeforeReplace: boolean }>();
{
  // biome-ignore lint/suspicious/noExplicitAny: the monitor is the SDK's internal gRPC client.
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (
    req: {
      getType(): string;
      getName(): string;
      getIgnorechangesList(): string[];
      getDeletebeforereplace(): boolean;
    },
    callback: unknown,
  ) => {
    options.set(`${req.getType()}::${req.getName()}`, {
      ignoreChanges: req.getIgnorechangesList(),
      deleteBeforeReplace: req.getDeletebeforereplace(),
    });
    return register(req, callback);
  };
}

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const FILE = "proxmoxve:download/file:File";
const COMPONENT = "castle:index:ProxmoxNodes";
const SCHEMATIC = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";
const DISK_IMAGE_URL = `https://factory.example.test/image/${SCHEMATIC}/v1.13.9/nocloud-amd64.raw.xz`;

type Module = typeof import("../components/proxmox-nodes");
type Args = import("../components/proxmox-nodes").ProxmoxNodesArgs;

function baseArgs(): Args {
  return {
    clusterName: "blue",
    talosVersion: "v1.13.9",
    architecture: "amd64",
    schematicId: SCHEMATIC,
    diskImageUrl: DISK_IMAGE_URL,
    proxmoxNodes: ["pve1", "pve2", "pve3"],
    imageDatastore: "local",
    imageDatastoreShared: false,
    vmDatastore: "local-lvm",
    bridge: "vmbr0",
    vlanId: 20,
    cpuType: "host",
    cidr: "10.10.20.0/24",
    gateway: "10.10.20.1",
    dnsServers: ["10.10.20.1", "9.9.9.9"],
    nodes: [
      {
        hostname: "blue-cp-1",
        ip: "10.10.20.11",
        vmId: 4101,
        proxmoxNode: "pve1",
        cores: 2,
        memoryMiB: 4096,
        diskGiB: 32,
        role: "controlPlane",
      },
      {
        hostname: "blue-cp-2",
        ip: "10.10.20.12",
        vmId: 4102,
        proxmoxNode: "pve2",
        cores: 2,
        memoryMiB: 4096,
        diskGiB: 32,
        role: "controlPlane",
      },
      {
        hostname: "blue-cp-3",
        ip: "10.10.20.13",
        vmId: 4103,
        proxmoxNode: "pve1",
        cores: 2,
        memoryMiB: 4096,
        diskGiB: 32,
        role: "controlPlane",
      },
      {
        hostname: "blue-w-1",
        ip: "10.10.20.21",
        vmId: 4201,
        proxmoxNode: "pve2",
        cores: 4,
        memoryMiB: 8192,
        diskGiB: 64,
        role: "worker",
      },
    ],
  };
}

const inputsOf = (r: RecordedResource) => r.inputs as Record<string, unknown> & { disks: Record<string, unknown>[] };

describe("ProxmoxNodes", () => {
  let mod: Module;
  let providerUrn: string;
  let local: InstanceType<Module["ProxmoxNodes"]>;
  let shared: InstanceType<Module["ProxmoxNodes"]>;

  before(async () => {
    mod = await import("../components/proxmox-nodes");
    const proxmox = await import("@muhlba91/pulumi-proxmoxve");
    const provider = new proxmox.Provider("pve", { endpoint: "https://pve.example.test:8006/" });
    local = new mod.ProxmoxNodes("local", baseArgs(), { provider });
    shared = new mod.ProxmoxNodes(
      "shared",
      { ...baseArgs(), clusterName: "green", imageDatastore: "cephfs", imageDatastoreShared: true },
      { provider },
    );
    await settle();
    providerUrn = await resolved(provider.urn);
  });

  const ofComponent = (type: string, component: string) =>
    harness.ofType(type).filter((r) => r.parent === `${COMPONENT}::${component}`);

  it("registers the component under its type token", () => {
    assert.equal(harness.get(COMPONENT, "local").custom, false);
    assert.equal(harness.get(COMPONENT, "shared").custom, false);
  });

  it("downloads the image once on each hosting Proxmox node on local storage, none elsewhere", () => {
    const files = ofComponent(FILE, "local");
    assert.deepEqual(files.map((f) => f.name).sort(), ["local-image-pve1", "local-image-pve2"]);
    assert.deepEqual(Object.keys(local.images).sort(), ["pve1", "pve2"]);
    for (const pve of ["pve1", "pve2"]) {
      assert.deepEqual(harness.get(FILE, `local-image-${pve}`).inputs, {
        nodeName: pve,
        datastoreId: "local",
        contentType: "import",
        url: `https://factory.example.test/image/${SCHEMATIC}/v1.13.9/nocloud-amd64.qcow2`,
        fileName: "talos-blue-376567988ad3-v1.13.9-nocloud-amd64.qcow2",
        overwrite: false,
        // A retry after an interrupted run finds its own file there: replaced, not an error.
        overwriteUnmanaged: true,
        uploadTimeout: 1800,
      });
    }
  });

  it("downloads once in all on a shared datastore, on the first hosting node", () => {
    const files = ofComponent(FILE, "shared");
    assert.deepEqual(
      files.map((f) => f.name),
      ["shared-image-pve1"],
    );
    assert.deepEqual(Object.keys(shared.images), ["pve1"]);
    const file = harness.get(FILE, "shared-image-pve1");
    assert.equal(file.inputs.datastoreId, "cephfs");
    assert.equal(file.inputs.fileName, "talos-green-376567988ad3-v1.13.9-nocloud-amd64.qcow2");
  });

  it("creates one VM per castle node, named by hostname, parented to the component", () => {
    for (const component of ["local", "shared"]) {
      const vms = ofComponent(VM, component);
      assert.deepEqual(
        vms.map((v) => v.name).sort(),
        ["blue-cp-1", "blue-cp-2", "blue-cp-3", "blue-w-1"].map((h) => `${component}-${h}`),
      );
    }
    assert.equal(harness.ofType(VM).length, 8);
    assert.equal(harness.ofType(FILE).length, 3);
    assert.deepEqual(Object.keys(local.vms).sort(), ["blue-cp-1", "blue-cp-2", "blue-cp-3", "blue-w-1"]);
  });

  it("passes the explicit provider to every child", () => {
    assert.match(providerUrn, /::pulumi:providers:proxmoxve::pve$/);
    for (const r of [...harness.ofType(VM), ...harness.ofType(FILE)]) {
      assert.ok(r.provider?.startsWith(`${providerUrn}::`), `${r.name} uses provider ${r.provider}`);
    }
  });

  it("places each VM on its Proxmox node with its id, size, CPU and memory", () => {
    const expected: Record<string, [string, number, number, number, number]> = {
      "blue-cp-1": ["pve1", 4101, 2, 4096, 32],
      "blue-cp-2": ["pve2", 4102, 2, 4096, 32],
      "blue-cp-3": ["pve1", 4103, 2, 4096, 32],
      "blue-w-1": ["pve2", 4201, 4, 8192, 64],
    };
    for (const [hostname, [pve, vmId, cores, memory, size]] of Object.entries(expected)) {
      const vm = inputsOf(harness.get(VM, `local-${hostname}`));
      assert.equal(vm.nodeName, pve, hostname);
      assert.equal(vm.vmId, vmId, hostname);
      assert.equal(vm.name, hostname);
      assert.deepEqual(vm.cpu, { cores, sockets: 1, type: "host" });
      assert.deepEqual(vm.memory, { dedicated: memory, floating: 0 });
      assert.equal(vm.disks.length, 1);
      assert.equal(vm.disks[0]?.size, size);
    }
  });

  it("gives each VM its static address, gateway and resolvers through cloud-init", () => {
    const ips: Record<string, string> = {
      "blue-cp-1": "10.10.20.11/24",
      "blue-cp-2": "10.10.20.12/24",
      "blue-cp-3": "10.10.20.13/24",
      "blue-w-1": "10.10.20.21/24",
    };
    for (const [hostname, address] of Object.entries(ips)) {
      assert.deepEqual(inputsOf(harness.get(VM, `local-${hostname}`)).initialization, {
        datastoreId: "local-lvm",
        interface: "ide2",
        ipConfigs: [{ ipv4: { address, gateway: "10.10.20.1" } }],
        dns: { servers: ["10.10.20.1", "9.9.9.9"] },
      });
    }
  });

  it("builds UEFI q35 VMs that stop on destroy and never wait on the guest agent for an IP", () => {
    for (const vm of harness.ofType(VM).map(inputsOf)) {
      // No change may reboot a VM on its own (every control plane would go down at once).
      assert.equal(vm.rebootAfterUpdate, false);
      assert.equal(vm.machine, "q35");
      assert.equal(vm.bios, "ovmf");
      assert.deepEqual(vm.efiDisk, { datastoreId: "local-lvm", fileFormat: "raw", type: "4m", preEnrolledKeys: false });
      assert.equal(vm.scsiHardware, "virtio-scsi-single");
      assert.equal(vm.stopOnDestroy, true);
      assert.equal(vm.started, true);
      assert.equal(vm.onBoot, true);
      assert.deepEqual(vm.operatingSystem, { type: "l26" });
      assert.deepEqual(vm.agent, { enabled: true, timeout: "1m", waitForIp: { disabled: true } });
      assert.deepEqual(vm.networkDevices, [{ bridge: "vmbr0", model: "virtio", vlanId: 20 }]);
      assert.deepEqual(vm.bootOrders, ["scsi0"]);
    }
  });

  it("imports each VM's disk from the image on its own Proxmox node, without fileId", () => {
    for (const [hostname, pve] of [
      ["blue-cp-1", "pve1"],
      ["blue-cp-2", "pve2"],
      ["blue-cp-3", "pve1"],
      ["blue-w-1", "pve2"],
    ] as const) {
      const vm = harness.get(VM, `local-${hostname}`);
      const image = harness.get(FILE, `local-image-${pve}`);
      const other = harness.get(FILE, `local-image-${pve === "pve1" ? "pve2" : "pve1"}`);
      assert.ok(vm.dependencies.includes(image.urn), `${hostname} waits for ${image.name}`);
      assert.ok(!harness.dependsOn(vm, other), `${hostname} does not wait for ${other.name}`);
      const disk = inputsOf(vm).disks[0];
      assert.equal(disk?.importFrom, `${image.name}-id`);
      assert.equal(disk?.fileId, undefined);
      assert.equal(disk?.interface, "scsi0");
      assert.equal(disk?.iothread, true);
      assert.equal(disk?.discard, "on");
      assert.equal(disk?.datastoreId, "local-lvm");
    }
  });

  it("makes every VM on shared storage import from the single download", () => {
    const image = harness.get(FILE, "shared-image-pve1");
    for (const vm of ofComponent(VM, "shared")) {
      assert.ok(vm.dependencies.includes(image.urn), vm.name);
      assert.equal(inputsOf(vm).disks[0]?.importFrom, "shared-image-pve1-id");
    }
  });

  it("ignores the drift traps on every VM and replaces a download by deleting it first", () => {
    for (const vm of harness.ofType(VM)) {
      assert.deepEqual(options.get(`${VM}::${vm.name}`)?.ignoreChanges, [
        "nodeName",
        "disks[0].importFrom",
        "disks[0].speed",
      ]);
    }
    for (const file of harness.ofType(FILE)) {
      assert.equal(options.get(`${FILE}::${file.name}`)?.deleteBeforeReplace, true, file.name);
    }
  });

  it("tags and describes each VM", () => {
    assert.deepEqual(inputsOf(harness.get(VM, "local-blue-cp-1")).tags, ["blue", "castle", "control-plane"]);
    assert.deepEqual(inputsOf(harness.get(VM, "local-blue-w-1")).tags, ["blue", "castle", "worker"]);
    assert.deepEqual(inputsOf(harness.get(VM, "shared-blue-w-1")).tags, ["castle", "green", "worker"]);
    assert.match(String(inputsOf(harness.get(VM, "local-blue-cp-2")).description), /blue-cp-2 of castle cluster blue/);
  });

  it("exposes the placed nodes as plain data and the VMs by hostname", async () => {
    assert.deepEqual(local.nodes, [
      { hostname: "blue-cp-1", ip: "10.10.20.11", role: "controlPlane", vmId: 4101, proxmoxNode: "pve1" },
      { hostname: "blue-cp-2", ip: "10.10.20.12", role: "controlPlane", vmId: 4102, proxmoxNode: "pve2" },
      { hostname: "blue-cp-3", ip: "10.10.20.13", role: "controlPlane", vmId: 4103, proxmoxNode: "pve1" },
      { hostname: "blue-w-1", ip: "10.10.20.21", role: "worker", vmId: 4201, proxmoxNode: "pve2" },
    ]);
    assert.equal(await resolved(local.vms["blue-w-1"]?.vmId ?? 0), 4201);
    assert.equal(await resolved(local.images.pve2?.id ?? ""), "local-image-pve2-id");
  });

  it("refuses two nodes with one VM ID before registering anything (the stack's rules are config/'s)", () => {
    const before = harness.resources.length;
    const args = baseArgs();
    args.nodes[3] = { ...(args.nodes[3] as Args["nodes"][number]), vmId: 4101 };
    assert.throws(
      () => new mod.ProxmoxNodes("bad", args),
      /ProxmoxNodes bad: each node needs its own hostname and VM ID/,
    );
    assert.equal(harness.resources.length, before);
    assert.equal(harness.ofType(COMPONENT).filter((r) => r.name === "bad").length, 0);
  });
});
