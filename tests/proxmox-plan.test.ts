import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import type { CastleNode } from "../lib/nodes";
import { planImages } from "../lib/placement";
import { IMAGE_CONTENT_TYPE, imageFileName, importableImageUrl, schematicYaml } from "../lib/talos-image";
import { VM_IGNORE_CHANGES, type VmEnvironment, vmSpec, vmTags } from "../lib/vm-spec";

const SCHEMATIC = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515";

describe("schematicYaml", () => {
  const cases: { name: string; extensions: string[]; expected: string[] }[] = [
    { name: "no extras: the guest agent alone", extensions: [], expected: ["siderolabs/qemu-guest-agent"] },
    {
      name: "extras sorted around the guest agent",
      extensions: ["siderolabs/util-linux-tools", "siderolabs/iscsi-tools"],
      expected: ["siderolabs/iscsi-tools", "siderolabs/qemu-guest-agent", "siderolabs/util-linux-tools"],
    },
    {
      name: "duplicates and a repeated guest agent collapse",
      extensions: ["siderolabs/iscsi-tools", "siderolabs/qemu-guest-agent", "siderolabs/iscsi-tools"],
      expected: ["siderolabs/iscsi-tools", "siderolabs/qemu-guest-agent"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const schematic = parse(schematicYaml(c.extensions));
      assert.deepEqual(schematic, { customization: { systemExtensions: { officialExtensions: c.expected } } });
    });
  }

  it("is the same text whatever the order of the extensions", () => {
    assert.equal(
      schematicYaml(["siderolabs/b-ext", "siderolabs/a-ext"]),
      schematicYaml(["siderolabs/a-ext", "siderolabs/b-ext", "siderolabs/a-ext"]),
    );
  });

  it("rejects a name that is not an official extension, naming it", () => {
    assert.throws(() => schematicYaml(["siderolabs/iscsi-tools", "evil\n  overlay: x"]), /"evil\\n {2}overlay: x"/);
    assert.throws(() => schematicYaml(["ghcr.io/me/ext"]), /siderolabs\/<name>/);
  });
});

describe("planImages", () => {
  const cases: {
    name: string;
    proxmoxNodes: string[];
    vmNodes: string[];
    shared: boolean;
    downloadNodes: string[];
    sourceFor: Record<string, string>;
  }[] = [
    {
      name: "local storage: one download on every hosting node, not just the first",
      proxmoxNodes: ["pve1", "pve2", "pve3"],
      vmNodes: ["pve1", "pve2", "pve3", "pve1"],
      shared: false,
      downloadNodes: ["pve1", "pve2", "pve3"],
      sourceFor: { pve1: "pve1", pve2: "pve2", pve3: "pve3" },
    },
    {
      name: "local storage: nodes without castle VMs get nothing",
      proxmoxNodes: ["pve1", "pve2", "pve3"],
      vmNodes: ["pve3", "pve3", "pve2"],
      shared: false,
      downloadNodes: ["pve2", "pve3"],
      sourceFor: { pve2: "pve2", pve3: "pve3" },
    },
    {
      name: "local storage: every VM on one node, one download",
      proxmoxNodes: ["pve1", "pve2"],
      vmNodes: ["pve2", "pve2", "pve2"],
      shared: false,
      downloadNodes: ["pve2"],
      sourceFor: { pve2: "pve2" },
    },
    {
      name: "shared storage: one download, on the first hosting node in configuration order",
      proxmoxNodes: ["pve1", "pve2", "pve3"],
      vmNodes: ["pve3", "pve2", "pve3"],
      shared: true,
      downloadNodes: ["pve2"],
      sourceFor: { pve2: "pve2", pve3: "pve2" },
    },
    {
      name: "shared storage: every hosting node imports from the one copy",
      proxmoxNodes: ["pve1", "pve2", "pve3"],
      vmNodes: ["pve1", "pve2", "pve3"],
      shared: true,
      downloadNodes: ["pve1"],
      sourceFor: { pve1: "pve1", pve2: "pve1", pve3: "pve1" },
    },
    {
      name: "no VMs: no downloads",
      proxmoxNodes: ["pve1"],
      vmNodes: [],
      shared: false,
      downloadNodes: [],
      sourceFor: {},
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planImages({ proxmoxNodes: c.proxmoxNodes, vmNodes: c.vmNodes, shared: c.shared });
      assert.deepEqual(plan.downloadNodes, c.downloadNodes);
      assert.deepEqual(plan.sourceFor, c.sourceFor);
    });
  }

  it("does not depend on the order of the VMs", () => {
    const a = planImages({ proxmoxNodes: ["pve1", "pve2"], vmNodes: ["pve2", "pve1"], shared: true });
    const b = planImages({ proxmoxNodes: ["pve1", "pve2"], vmNodes: ["pve1", "pve2"], shared: true });
    assert.deepEqual(a, b);
  });

  it("rejects a VM on a Proxmox node that is not listed, naming it", () => {
    assert.throws(
      () => planImages({ proxmoxNodes: ["pve1"], vmNodes: ["pve1", "pve9"], shared: false }),
      /pve9, which is not among the Proxmox nodes pve1/,
    );
  });
});

describe("imageFileName", () => {
  const base = { clusterName: "blue", schematicId: SCHEMATIC, talosVersion: "v1.13.9", architecture: "amd64" as const };

  it("names the image by cluster, schematic, version and architecture, with an import extension", () => {
    assert.equal(imageFileName(base), "talos-blue-ce4c980550dd-v1.13.9-nocloud-amd64.qcow2");
    assert.equal(IMAGE_CONTENT_TYPE, "import");
  });

  it("is deterministic", () => {
    assert.equal(imageFileName({ ...base }), imageFileName({ ...base }));
  });

  const variations: { name: string; change: Partial<typeof base> }[] = [
    { name: "another schematic", change: { schematicId: `ffff${SCHEMATIC.slice(4)}` } },
    { name: "another version", change: { talosVersion: "v1.13.10" } },
    { name: "another architecture", change: { architecture: "arm64" as never } },
    { name: "another cluster (blue and green never share a file)", change: { clusterName: "green" } },
  ];
  for (const v of variations) {
    it(`differs for ${v.name}`, () => {
      assert.notEqual(imageFileName({ ...base, ...v.change }), imageFileName(base));
    });
  }

  it("rejects a schematic ID that could not come from Image Factory", () => {
    assert.throws(() => imageFileName({ ...base, schematicId: "short" }), /schematic ID "short"/);
    assert.throws(() => imageFileName({ ...base, schematicId: `../${SCHEMATIC}` }), /is not an Image Factory/);
  });
});

describe("importableImageUrl", () => {
  const root = `https://factory.example.test/image/${SCHEMATIC}/v1.13.9`;
  const cases: { name: string; input: string; arch: "amd64" | "arm64"; expected: string }[] = [
    {
      name: "the raw.xz Image Factory reports becomes the qcow2 beside it",
      input: `${root}/nocloud-amd64.raw.xz`,
      arch: "amd64",
      expected: `${root}/nocloud-amd64.qcow2`,
    },
    { name: "arm64", input: `${root}/nocloud-arm64.raw.xz`, arch: "arm64", expected: `${root}/nocloud-arm64.qcow2` },
    {
      name: "already qcow2",
      input: `${root}/nocloud-amd64.qcow2`,
      arch: "amd64",
      expected: `${root}/nocloud-amd64.qcow2`,
    },
    { name: "zst", input: `${root}/nocloud-amd64.raw.zst`, arch: "amd64", expected: `${root}/nocloud-amd64.qcow2` },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(importableImageUrl(c.input, c.arch), c.expected));
  }

  const bad: { name: string; input: string; message: RegExp }[] = [
    { name: "the metal platform", input: `${root}/metal-amd64.raw.xz`, message: /not the nocloud-amd64 disk image/ },
    { name: "the wrong architecture", input: `${root}/nocloud-arm64.raw.xz`, message: /nocloud-amd64/ },
    { name: "an ISO", input: `${root}/nocloud-amd64.iso`, message: /not the nocloud-amd64 disk image/ },
    { name: "a secureboot image", input: `${root}/nocloud-amd64-secureboot.raw.xz`, message: /nocloud-amd64/ },
    { name: "no URL at all", input: "nocloud-amd64.raw.xz", message: /not an absolute URL/ },
    { name: "another scheme", input: "ftp://x.test/nocloud-amd64.raw.xz", message: /must use https/ },
  ];
  for (const b of bad) {
    it(`rejects ${b.name}`, () => assert.throws(() => importableImageUrl(b.input, "amd64"), b.message));
  }
});

const env: VmEnvironment = {
  clusterName: "blue",
  vmDatastore: "fast-lvm",
  bridge: "vmbr1",
  vlanId: 20,
  cpuType: "x86-64-v2-AES",
  cidr: "10.10.20.0/24",
  gateway: "10.10.20.1",
  dnsServers: ["10.10.20.2", "1.1.1.1"],
};
const cp1: CastleNode = {
  hostname: "blue-cp-1",
  ip: "10.10.20.11",
  vmId: 4101,
  proxmoxNode: "pve2",
  cores: 4,
  memoryMiB: 8192,
  diskGiB: 40,
  role: "controlPlane",
};

describe("vmSpec", () => {
  const spec = vmSpec(cp1, env, "local:import/talos.qcow2");

  it("places the VM on its Proxmox node under its own ID, named by hostname", () => {
    assert.equal(spec.nodeName, "pve2");
    assert.equal(spec.vmId, 4101);
    assert.equal(spec.name, "blue-cp-1");
  });

  it("boots UEFI on q35 with a 4m EFI disk from day one and no pre-enrolled keys (changing either replaces the VM)", () => {
    assert.equal(spec.machine, "q35");
    assert.equal(spec.bios, "ovmf");
    assert.equal(spec.efiDisk.type, "4m");
    assert.equal(spec.efiDisk.preEnrolledKeys, false);
  });

  it("imports the system disk from the downloaded image (no SSH, not ForceNew), on virtio-scsi-single with iothread, discard and SSD", () => {
    const [disk] = spec.disks;
    assert.equal(spec.disks.length, 1);
    assert.equal(disk?.importFrom, "local:import/talos.qcow2");
    assert.equal(disk?.interface, "scsi0");
    assert.deepEqual(spec.bootOrders, ["scsi0"]);
    assert.equal(spec.scsiHardware, "virtio-scsi-single");
    assert.equal(disk?.iothread, true);
    assert.equal(disk?.discard, "on");
    assert.equal(disk?.ssd, true);
    assert.equal(disk?.size, 40);
    assert.equal(disk?.datastoreId, "fast-lvm");
  });

  it("runs the guest agent but never waits on it for an IP (the address is static)", () => {
    assert.equal(spec.agent.enabled, true);
    assert.equal(spec.agent.waitForIp.disabled, true);
  });

  it("gives dedicated memory without ballooning (Talos has no memory hotplug), and the node's cores", () => {
    assert.deepEqual(spec.memory, { dedicated: 8192, floating: 0 });
    assert.equal(spec.cpu.cores, 4);
    assert.equal(spec.cpu.type, "x86-64-v2-AES");
  });

  it("sets the static address through cloud-init ipConfigs and dns only (both update in place)", () => {
    assert.deepEqual(spec.initialization.ipConfigs, [{ ipv4: { address: "10.10.20.11/24", gateway: "10.10.20.1" } }]);
    assert.deepEqual(spec.initialization.dns, { servers: ["10.10.20.2", "1.1.1.1"] });
    assert.deepEqual(Object.keys(spec.initialization).sort(), ["datastoreId", "dns", "interface", "ipConfigs"]);
  });

  it("stops instead of waiting for a guest shutdown on destroy, and never reboots itself on an update", () => {
    assert.equal(spec.stopOnDestroy, true);
    assert.equal(spec.rebootAfterUpdate, false);
    assert.equal(spec.started, true);
    assert.equal(spec.onBoot, true);
  });

  it("tags the VM as the castle's, with its cluster and role", () => {
    assert.deepEqual(spec.tags, ["blue", "castle", "control-plane"]);
    assert.deepEqual(spec.networkDevices, [{ bridge: "vmbr1", model: "virtio", vlanId: 20 }]);
  });

  it("leaves the VLAN out when there is none (untagged)", () => {
    const spec = vmSpec(cp1, { ...env, vlanId: undefined }, "x");
    assert.deepEqual(spec.networkDevices, [{ bridge: "vmbr1", model: "virtio" }]);
    assert.ok(!("vlanId" in (spec.networkDevices[0] as object)));
  });

  it("gives the address the subnet's prefix", () => {
    const spec = vmSpec({ ...cp1, ip: "172.16.5.9" }, { ...env, cidr: "172.16.0.0/20", gateway: "172.16.0.1" }, "x");
    assert.deepEqual(spec.initialization.ipConfigs, [{ ipv4: { address: "172.16.5.9/20", gateway: "172.16.0.1" } }]);
  });

  it("tags a worker as a worker", () => {
    const spec = vmSpec({ ...cp1, role: "worker", hostname: "blue-w-1" }, env, "x");
    assert.deepEqual(spec.tags, ["blue", "castle", "worker"]);
    assert.match(spec.description, /^Talos worker node blue-w-1 /);
  });
});

describe("vmTags", () => {
  it("sorts and de-duplicates, in lower case", () => {
    assert.deepEqual(vmTags("zeta", "controlPlane"), ["castle", "control-plane", "zeta"]);
    assert.deepEqual(vmTags("castle", "worker"), ["castle", "worker"]);
    assert.deepEqual(vmTags("alpha", "worker"), ["alpha", "castle", "worker"]);
  });
});

describe("VM_IGNORE_CHANGES", () => {
  it("covers the node move, the image reference and the disk speed drift", () => {
    assert.deepEqual([...VM_IGNORE_CHANGES].sort(), ["disks[0].importFrom", "disks[0].speed", "nodeName"]);
  });
});
