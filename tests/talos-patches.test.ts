import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import {
  factoryInstallerImage,
  NODE_LINK_ALIAS,
  NODE_LINK_SELECTOR,
  renderHostnamePatch,
  renderInstallPatch,
  renderLinkPatch,
  renderNodePatches,
  renderResolverPatch,
  renderVipPatch,
} from "../lib/talos-patches";
import { validateTalosDocument } from "./support/talos-config-facts";

const SCHEMATIC = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515";
const NETWORK = { cidr: "10.10.20.0/24", gateway: "10.10.20.1", dns: ["10.10.20.1", "9.9.9.9"], vip: "10.10.20.5" };
const CLUSTER = {
  installDisk: "/dev/sda",
  installerImage: `factory.talos.dev/nocloud-installer/${SCHEMATIC}:v1.13.9`,
  network: NETWORK,
};

/** Every document of a patch string, parsed strictly (a YAML error fails the test). */
function documents(patch: string): unknown[] {
  return parseAllDocuments(patch).map((doc) => {
    assert.deepEqual(doc.errors, [], `YAML errors in:\n${patch}`);
    return doc.toJS();
  });
}

describe("factoryInstallerImage", () => {
  const cases: { name: string; factory: string; platform?: string; want: string }[] = [
    { name: "host", factory: "factory.talos.dev", want: `factory.talos.dev/nocloud-installer/${SCHEMATIC}:v1.13.9` },
    {
      name: "https URL with slash",
      factory: "https://factory.talos.dev/",
      want: `factory.talos.dev/nocloud-installer/${SCHEMATIC}:v1.13.9`,
    },
    {
      name: "self-hosted with port, metal",
      factory: "https://factory.internal:8443",
      platform: "metal",
      want: `factory.internal:8443/metal-installer/${SCHEMATIC}:v1.13.9`,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(
        factoryInstallerImage({
          factory: c.factory,
          schematicId: SCHEMATIC,
          talosVersion: "v1.13.9",
          platform: c.platform,
        }),
        c.want,
      );
    });
  }

  const bad: { name: string; args: Parameters<typeof factoryInstallerImage>[0]; message: RegExp }[] = [
    {
      name: "short schematic",
      args: { factory: "factory.talos.dev", schematicId: "abc", talosVersion: "v1.13.9" },
      message: /schematic ID "abc" must be 64/,
    },
    {
      name: "version without v",
      args: { factory: "factory.talos.dev", schematicId: SCHEMATIC, talosVersion: "1.13.9" },
      message: /Talos version "1.13.9" must be a Talos v1.13 release such as v1.13.9/,
    },
    {
      name: "path in host",
      args: { factory: "factory.talos.dev/x y", schematicId: SCHEMATIC, talosVersion: "v1.13.9" },
      message: /Image Factory "factory.talos.dev\/x y" is not a host/,
    },
  ];
  for (const c of bad) {
    it(`refuses ${c.name}`, () => assert.throws(() => factoryInstallerImage(c.args), c.message));
  }
});

describe("single patches", () => {
  const cases: { name: string; patch: string; want: unknown[] }[] = [
    {
      name: "install",
      patch: renderInstallPatch({ disk: "/dev/vda", image: CLUSTER.installerImage }),
      want: [{ machine: { install: { disk: "/dev/vda", image: CLUSTER.installerImage } } }],
    },
    {
      name: "hostname",
      patch: renderHostnamePatch("cp-1"),
      want: [{ apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "off", hostname: "cp-1" }],
    },
    {
      name: "link",
      patch: renderLinkPatch({ ip: "10.10.20.11", cidr: "10.10.20.0/24", gateway: "10.10.20.1" }),
      want: [
        {
          apiVersion: "v1alpha1",
          kind: "LinkAliasConfig",
          name: "net0",
          selector: { match: 'link.driver == "virtio_net"' },
        },
        {
          apiVersion: "v1alpha1",
          kind: "LinkConfig",
          name: "net0",
          up: true,
          addresses: [{ address: "10.10.20.11/24" }],
          routes: [{ gateway: "10.10.20.1" }],
        },
      ],
    },
    {
      name: "link in a /23",
      patch: renderLinkPatch({ ip: "10.10.21.200", cidr: "10.10.20.0/23", gateway: "10.10.20.1" }),
      want: [
        {
          apiVersion: "v1alpha1",
          kind: "LinkAliasConfig",
          name: "net0",
          selector: { match: 'link.driver == "virtio_net"' },
        },
        {
          apiVersion: "v1alpha1",
          kind: "LinkConfig",
          name: "net0",
          up: true,
          addresses: [{ address: "10.10.21.200/23" }],
          routes: [{ gateway: "10.10.20.1" }],
        },
      ],
    },
    {
      name: "resolvers",
      patch: renderResolverPatch(["10.10.20.1", "9.9.9.9"]),
      want: [
        {
          apiVersion: "v1alpha1",
          kind: "ResolverConfig",
          nameservers: [{ address: "10.10.20.1" }, { address: "9.9.9.9" }],
        },
      ],
    },
    {
      name: "vip",
      patch: renderVipPatch("10.10.20.5"),
      want: [{ apiVersion: "v1alpha1", kind: "Layer2VIPConfig", name: "10.10.20.5", link: "net0" }],
    },
  ];
  for (const c of cases) {
    it(`${c.name}: exact documents, valid against the v1.13 facts`, () => {
      const docs = documents(c.patch);
      assert.deepEqual(docs, c.want);
      for (const doc of docs) assert.deepEqual(validateTalosDocument(doc), []);
    });
  }

  it("quotes auto: off so no YAML 1.1 reader takes it for false", () => {
    assert.match(renderHostnamePatch("cp-1"), /^auto: "off"$/m);
  });

  it("the VIP and the link refer to the same alias", () => {
    assert.equal(NODE_LINK_ALIAS, "net0");
    assert.equal(NODE_LINK_SELECTOR, 'link.driver == "virtio_net"');
  });
});

describe("renderNodePatches", () => {
  const cases: { name: string; role: "controlPlane" | "worker"; kinds: string[] }[] = [
    {
      name: "control plane",
      role: "controlPlane",
      kinds: ["(v1alpha1)", "HostnameConfig", "LinkAliasConfig", "LinkConfig", "ResolverConfig", "Layer2VIPConfig"],
    },
    {
      name: "worker",
      role: "worker",
      kinds: ["(v1alpha1)", "HostnameConfig", "LinkAliasConfig", "LinkConfig", "ResolverConfig"],
    },
  ];
  for (const c of cases) {
    it(`${c.name}: patches in order, every document valid`, () => {
      const patches = renderNodePatches({ hostname: "n-1", ip: "10.10.20.11", role: c.role }, CLUSTER);
      assert.equal(patches.length, c.role === "controlPlane" ? 5 : 4);
      const docs = patches.flatMap(documents) as Record<string, unknown>[];
      assert.deepEqual(
        docs.map((d) => (d.kind as string | undefined) ?? "(v1alpha1)"),
        c.kinds,
      );
      for (const doc of docs) assert.deepEqual(validateTalosDocument(doc), []);
      const link = docs.find((d) => d.kind === "LinkConfig");
      assert.deepEqual(link?.addresses, [{ address: "10.10.20.11/24" }]);
    });
  }
});

describe("control planes that run workloads", () => {
  it("get cluster.allowSchedulingOnControlPlanes, workers never; valid against the v1.13 facts", () => {
    const cluster = { ...CLUSTER, allowSchedulingOnControlPlanes: true };
    const cp = renderNodePatches({ hostname: "n-1", ip: "10.10.20.11", role: "controlPlane" }, cluster);
    const docs = cp.flatMap(documents) as Record<string, unknown>[];
    assert.deepEqual(docs.at(-1), { cluster: { allowSchedulingOnControlPlanes: true } });
    for (const doc of docs) assert.deepEqual(validateTalosDocument(doc), []);
    const worker = renderNodePatches({ hostname: "n-2", ip: "10.10.20.21", role: "worker" }, cluster);
    assert.ok(!worker.some((p) => p.includes("allowSchedulingOnControlPlanes")));
    const tainted = renderNodePatches({ hostname: "n-1", ip: "10.10.20.11", role: "controlPlane" }, CLUSTER);
    assert.ok(!tainted.some((p) => p.includes("allowSchedulingOnControlPlanes")));
  });
});

describe("the v1.13 facts catch what Talos v1.13 dropped or never had", () => {
  const cases: { name: string; doc: unknown; problem: string }[] = [
    {
      name: "legacy machine.network VIP",
      doc: { machine: { network: { interfaces: [{ interface: "eth0", vip: { ip: "10.10.20.5" } }] } } },
      problem:
        "v1alpha1 config: machine.network: unknown field (known: type, token, ca, acceptedCAs, certSANs, " +
        "controlPlane, kubelet, pods, install, files, sysctls, sysfs, features, udev, logging, kernel, " +
        "seccompProfiles, baseRuntimeSpecOverrides, nodeLabels, nodeAnnotations, nodeTaints)",
    },
    {
      name: "Layer2VIPConfig without name",
      doc: { apiVersion: "v1alpha1", kind: "Layer2VIPConfig", link: "net0" },
      problem: "Layer2VIPConfig: name: required field missing",
    },
    {
      name: "address without prefix",
      doc: { apiVersion: "v1alpha1", kind: "LinkConfig", name: "net0", addresses: [{ address: "10.10.20.11" }] },
      problem: 'LinkConfig: addresses[0].address: "10.10.20.11" does not match /^[0-9a-f.:]+\\/\\d{1,3}$/',
    },
    {
      name: "unknown hostname field",
      doc: { apiVersion: "v1alpha1", kind: "HostnameConfig", name: "x" },
      problem: "HostnameConfig: name: unknown field (known: apiVersion, kind, auto, hostname)",
    },
    {
      name: "bad auto",
      doc: { apiVersion: "v1alpha1", kind: "HostnameConfig", auto: false },
      problem: "HostnameConfig: auto: expected one of stable, off, got boolean",
    },
    {
      name: "install disk not a string",
      doc: { machine: { install: { disk: 1 } } },
      problem: "v1alpha1 config: machine.install.disk: expected string, got integer",
    },
  ];
  for (const c of cases) {
    it(c.name, () =>
      assert.ok(validateTalosDocument(c.doc).includes(c.problem), validateTalosDocument(c.doc).join("; ")),
    );
  }
});
