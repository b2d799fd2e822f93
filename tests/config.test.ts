import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { CastleConfigError, crossStackProblems, parseCastleConfig, readStackFile, validateStack } from "../config/load";

// biome-ignore lint/suspicious/noExplicitAny: the tests edit raw stack files freely to build bad cases.
type RawStack = Record<string, any>;

const projectDir = path.resolve(__dirname, "..");
const blue = () => structuredClone(readStackFile(projectDir, "blue")) as RawStack;

/** The problems reported for a raw stack, as `key: message` lines. */
function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    parseCastleConfig("blue", "Pulumi.blue.yaml", raw);
    return [];
  } catch (error) {
    assert.ok(error instanceof CastleConfigError, String(error));
    return error.problems.map((p) => `${p.key}: ${p.message}`);
  }
}

describe("stack files of the project", () => {
  for (const stack of ["blue", "green"]) {
    it(`${stack} is valid, cross-stack rules included`, () => {
      const config = validateStack(stack, `Pulumi.${stack}.yaml`, readStackFile(projectDir, stack), projectDir);
      assert.equal(config.clusterName, stack);
      assert.equal(config.controlPlanes.length, 3);
      assert.equal(config.workers.length, 2);
    });
  }

  it("applies secure defaults", () => {
    const raw = blue();
    delete raw.infisical.siteUrl;
    delete raw.proxmox.insecureSkipTlsVerify;
    const config = parseCastleConfig("blue", "Pulumi.blue.yaml", raw);
    assert.equal(config.infisical.siteUrl, "https://eu.infisical.com");
    assert.equal(config.proxmox.insecureSkipTlsVerify, false);
    assert.equal(config.guards.allowSharedInfisicalIdentity, false);
    assert.equal(config.infisical.timeoutSeconds, 30);
    assert.deepEqual(config.infisical.secretNames, {
      secretboxKey: "TALOS_SECRETBOX_KEY",
      proxmoxTokenId: "PROXMOX_TOKEN_ID",
      proxmoxTokenSecret: "PROXMOX_TOKEN_SECRET",
      esoClientId: "ESO_CLIENT_ID",
      esoClientSecret: "ESO_CLIENT_SECRET",
    });
    assert.equal(config.talos.contract, "v1.13");
  });
});

/** Each case breaks one thing in a valid stack; the expected line names the key and the fault. */
const badStacks: { name: string; mutate: (raw: RawStack) => void; expected: RegExp }[] = [
  {
    name: "node IP outside the CIDR",
    mutate: (r) => (r.controlPlanes[0].ip = "10.30.0.11"),
    expected: /^castle:controlPlanes\[0\]\.ip: 10\.30\.0\.11 must be a usable address inside 10\.20\.0\.0\/24/,
  },
  {
    name: "node IP is the network address",
    mutate: (r) => (r.workers[0].ip = "10.20.0.0"),
    expected: /^castle:workers\[0\]\.ip: 10\.20\.0\.0 must be a usable address inside .*network 10\.20\.0\.0/,
  },
  {
    name: "node IP is the broadcast address",
    mutate: (r) => (r.workers[1].ip = "10.20.0.255"),
    expected: /^castle:workers\[1\]\.ip: 10\.20\.0\.255 must be a usable address inside .*broadcast 10\.20\.0\.255/,
  },
  {
    name: "node IP is the gateway",
    mutate: (r) => (r.controlPlanes[2].ip = "10.20.0.1"),
    expected: /^castle:controlPlanes\[2\]\.ip: 10\.20\.0\.1 is the gateway address/,
  },
  {
    name: "node IP is not an IPv4 address",
    mutate: (r) => (r.controlPlanes[1].ip = "10.20.0.300"),
    expected: /^castle:controlPlanes\[1\]\.ip: "10\.20\.0\.300": must be an IPv4 address/,
  },
  {
    name: "VIP outside the CIDR",
    mutate: (r) => (r.network.vip = "192.168.1.10"),
    expected: /^castle:network\.vip: 192\.168\.1\.10 must be a usable address inside 10\.20\.0\.0\/24/,
  },
  {
    name: "VIP equal to a node IP",
    mutate: (r) => (r.network.vip = "10.20.0.12"),
    expected: /^castle:controlPlanes\[1\]\.ip: 10\.20\.0\.12 is also the VIP/,
  },
  {
    name: "gateway outside the CIDR",
    mutate: (r) => (r.network.gateway = "10.21.0.1"),
    expected: /^castle:network\.gateway: 10\.21\.0\.1 must be a usable address inside/,
  },
  {
    name: "duplicate IP",
    mutate: (r) => (r.workers[1].ip = r.workers[0].ip),
    expected: /^castle:workers\[1\]\.ip: 10\.20\.0\.21 is already used by workers\[0\]/,
  },
  {
    name: "duplicate hostname",
    mutate: (r) => (r.workers[0].hostname = "blue-cp-1"),
    expected: /^castle:workers\[0\]\.hostname: blue-cp-1 is already used by controlPlanes\[0\]/,
  },
  {
    name: "duplicate VM ID",
    mutate: (r) => (r.controlPlanes[1].vmId = 2011),
    expected: /^castle:controlPlanes\[1\]\.vmId: 2011 is already used by controlPlanes\[0\]/,
  },
  {
    name: "even number of control planes",
    mutate: (r) => r.controlPlanes.pop(),
    expected: /^castle:controlPlanes: 2 control planes: etcd needs an odd number/,
  },
  {
    name: "no control plane",
    mutate: (r) => (r.controlPlanes = []),
    expected: /^castle:controlPlanes: \[\]: needs at least 1 entry/,
  },
  {
    name: "hostname not a DNS label",
    mutate: (r) => (r.controlPlanes[0].hostname = "Blue_CP1"),
    expected: /^castle:controlPlanes\[0\]\.hostname: hostname must be a DNS label.*; it holds 'B', '_', 'C' and 'P'$/,
  },
  {
    name: "hostname longer than 63 characters",
    mutate: (r) => (r.workers[0].hostname = "w".repeat(64)),
    expected: /^castle:workers\[0\]\.hostname: hostname must be a DNS label/,
  },
  {
    name: "worker on a Proxmox node that the stack does not list",
    mutate: (r) => (r.workers[0].proxmoxNode = "pve9"),
    expected: /^castle:workers\[0\]\.proxmoxNode: pve9 is not one of castle:proxmox\.nodes \(pve1, pve2, pve3\)/,
  },
  {
    name: "Talos version without the leading v",
    mutate: (r) => (r.talos.version = "1.13.9"),
    expected: /^castle:talos\.version: "1\.13\.9": must be a Talos v1\.13 release/,
  },
  {
    name: "Talos version older than the v1.13 contract",
    mutate: (r) => (r.talos.version = "v1.12.6"),
    expected: /^castle:talos\.version: "v1\.12\.6": must be a Talos v1\.13 release/,
  },
  {
    name: "Talos contract that is not v1.13",
    mutate: (r) => (r.talos.contract = "v1.12"),
    expected: /^castle:talos\.contract: "v1\.12": must be the Talos minor version contract v1\.13/,
  },
  {
    name: "Kubernetes version with a leading v",
    mutate: (r) => (r.kubernetesVersion = "v1.36.3"),
    expected: /^castle:kubernetesVersion: "v1\.36\.3": must be a Kubernetes version such as 1\.36\.3/,
  },
  {
    name: "ESO chart version malformed",
    mutate: (r) => (r.eso.chartVersion = "latest"),
    expected: /^castle:eso\.chartVersion: "latest": must be a chart version/,
  },
  {
    name: "Infisical over plain http to a remote host",
    mutate: (r) => (r.infisical.siteUrl = "http://infisical.example.org"),
    expected: /^castle:infisical\.siteUrl: must use https:\/\/ \(plain http is allowed only for a loopback address/,
  },
  {
    name: "Infisical site URL that is not a URL",
    mutate: (r) => (r.infisical.siteUrl = "eu.infisical.com"),
    expected: /^castle:infisical\.siteUrl: must be a URL written with its scheme and '\/\/'/,
  },
  {
    name: "Proxmox endpoint over plain http",
    mutate: (r) => (r.proxmox.endpoint = "http://pve.home.arpa:8006/"),
    expected: /^castle:proxmox\.endpoint: must use https:\/\//,
  },
  {
    name: "Proxmox endpoint with /api2/json",
    mutate: (r) => (r.proxmox.endpoint = "https://pve.home.arpa:8006/api2/json"),
    expected: /^castle:proxmox\.endpoint: .*must not include \/api2\/json/,
  },
  {
    name: "misspelt top-level key",
    mutate: (r) => (r.contolPlanes = []),
    expected: /^castle:contolPlanes: unknown key/,
  },
  {
    name: "misspelt nested key",
    mutate: (r) => (r.controlPlanes[0].vmid = 1),
    expected: /^castle:controlPlanes\[0\]\.vmid: unknown key/,
  },
  {
    name: "missing required key",
    mutate: (r) => delete r.infisical.projectSlug,
    expected: /^castle:infisical\.projectSlug: is required/,
  },
  {
    name: "VM ID below Proxmox's range",
    mutate: (r) => (r.workers[0].vmId = 99),
    expected: /^castle:workers\[0\]\.vmId: 99: must be at least 100/,
  },
  {
    name: "subnet too small",
    mutate: (r) => (r.network.cidr = "10.20.0.0/30"),
    expected: /^castle:network\.cidr: 10\.20\.0\.0\/30 is too small/,
  },
];

describe("bad stack configs are refused with the key and the fault", () => {
  for (const { name, mutate, expected } of badStacks) {
    it(name, () => {
      const raw = blue();
      mutate(raw);
      const problems = problemsOf(raw);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `expected a problem matching ${expected}, got:\n${problems.join("\n")}`,
      );
    });
  }

  it("allows plain http to Infisical on a loopback address", () => {
    for (const url of ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"]) {
      const raw = blue();
      raw.infisical.siteUrl = url;
      assert.deepEqual(problemsOf(raw), [], url);
    }
  });

  it("reports every problem at once, not just the first", () => {
    const raw = blue();
    raw.controlPlanes[1].hostname = "Bad_Host"; // shape
    raw.controlPlanes.pop(); // count
    raw.network.vip = raw.controlPlanes[0].ip; // cross-field
    raw.talos.verison = "v1.13.9"; // unknown key
    const problems = problemsOf(raw);
    assert.equal(problems.length, 4, problems.join("\n"));
  });

  it("names the stack and the file in the error message", () => {
    const raw = blue();
    raw.workers[0].ip = "10.20.0.300";
    assert.throws(
      () => parseCastleConfig("blue", "Pulumi.blue.yaml", raw),
      /^CastleConfigError: stack "blue" \(Pulumi\.blue\.yaml\) has 1 problem:\n {2}- castle:workers\[0\]\.ip/,
    );
  });
});

describe("blue and green must not collide", () => {
  const green = () => structuredClone(readStackFile(projectDir, "green")) as RawStack;
  const cases: { name: string; mutate: (g: RawStack) => void; expected: RegExp }[] = [
    {
      name: "node IP",
      mutate: (g) => (g.workers[0].ip = "10.20.0.11"),
      expected:
        /castle:workers\[0\]\.ip: 10\.20\.0\.11 is also used by stack "blue" \(castle:controlPlanes\[0\]\.ip in Pulumi\.blue\.yaml\)/,
    },
    {
      name: "VIP against a node IP",
      mutate: (g) => (g.network.vip = "10.20.0.21"),
      expected: /castle:network\.vip: 10\.20\.0\.21 is also used by stack "blue" \(castle:workers\[0\]\.ip/,
    },
    {
      name: "VIP against the VIP",
      mutate: (g) => (g.network.vip = "10.20.0.10"),
      expected: /castle:network\.vip: 10\.20\.0\.10 is also used by stack "blue" \(castle:network\.vip/,
    },
    {
      name: "VM ID",
      mutate: (g) => (g.controlPlanes[2].vmId = 2022),
      expected: /castle:controlPlanes\[2\]\.vmId: 2022 is also used by stack "blue" \(castle:workers\[1\]\.vmId/,
    },
    {
      name: "hostname",
      mutate: (g) => (g.workers[1].hostname = "blue-wk-2"),
      expected: /castle:workers\[1\]\.hostname: blue-wk-2 is also used by stack "blue"/,
    },
    {
      name: "cluster name",
      mutate: (g) => (g.clusterName = "blue"),
      expected: /castle:clusterName: blue is also used by stack "blue"/,
    },
  ];
  for (const { name, mutate, expected } of cases) {
    it(name, () => {
      const raw = green();
      mutate(raw);
      const problems = crossStackProblems(raw, [{ stack: "blue", raw: blue() }]).map((p) => `${p.key}: ${p.message}`);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `expected ${expected}, got:\n${problems.join("\n")}`,
      );
    });
  }

  it("finds the other stacks from the project's stack files", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "castle-stacks-"));
    const green = readFileSync(path.join(projectDir, "Pulumi.green.yaml"), "utf8");
    const raw = blue();
    raw.controlPlanes[0].vmId = 2111; // green's first control plane
    writeFileSync(path.join(dir, "Pulumi.green.yaml"), green);
    writeFileSync(
      path.join(dir, "Pulumi.blue.yaml"),
      stringify({ config: Object.fromEntries(Object.entries(raw).map(([k, v]) => [`castle:${k}`, v])) }),
    );
    assert.throws(
      () => validateStack("blue", "Pulumi.blue.yaml", readStackFile(dir, "blue"), dir),
      /castle:controlPlanes\[0\]\.vmId: 2111 is also used by stack "green"/,
    );
  });
});
