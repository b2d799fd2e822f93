/**
 * The `castle` command line: help and exit codes, typo suggestions, extra arguments, stack files given
 * by path, the project found from a subfolder, `check --all`, and which modules `check` loads.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { closestCommand, main } from "../cli/castle";

const ROOT = path.resolve(__dirname, "..");
/** tsx, the TypeScript loader, and what it loads to compile. */
const LOADER = ["tsx", "esbuild", "get-tsconfig", "resolve-pkg-maps"];
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function castle(argv: string[], cwd = ROOT) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, cwd, { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** A copy of the project's Pulumi.yaml and stack files, with a subfolder. */
function project(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "castle-cli-"));
  dirs.push(dir);
  for (const file of ["Pulumi.yaml", "Pulumi.blue.yaml", "Pulumi.green.yaml"]) {
    cpSync(path.join(ROOT, file), path.join(dir, file));
  }
  mkdirSync(path.join(dir, "deep", "er"), { recursive: true });
  return dir;
}

describe("castle help", () => {
  for (const argv of [["--help"], ["-h"], ["help"]]) {
    it(`castle ${argv.join(" ")} prints the usage and exits 0`, async () => {
      const { code, out, err } = await castle(argv);
      assert.equal(code, 0);
      assert.equal(err, "");
      assert.match(out, /^usage: castle <command>/);
      for (const command of [
        "check",
        "doctor",
        "render",
        "preview",
        "up",
        "recreate",
        "kubeconfig",
        "talosconfig",
        "status",
      ]) {
        assert.match(out, new RegExp(`\\n  ${command} `));
      }
    });
  }

  for (const argv of [
    ["help", "render"],
    ["render", "--help"],
    ["render", "-h"],
  ]) {
    it(`castle ${argv.join(" ")} prints the command's help and exits 0`, async () => {
      const { code, out } = await castle(argv);
      assert.equal(code, 0);
      assert.match(out, /^usage: castle render <stack> \[--out DIR\]/);
      assert.match(out, /never removes a file it did not write/);
    });
  }

  it("castle help doctor names both ways to give the credentials", async () => {
    const { code, out } = await castle(["help", "doctor"]);
    assert.equal(code, 0);
    assert.match(out, /INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET, or an access token in INFISICAL_TOKEN/);
  });

  it("castle --version prints the castle's version, the Pulumi SDK's and Node's", async () => {
    const own = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).version;
    for (const argv of [["--version"], ["-V"]]) {
      const { code, out, err } = await castle(argv);
      assert.equal(code, 0, err);
      assert.equal(out, `castle ${own} (@pulumi/pulumi 3.276.0, Node ${process.version})`);
    }
    const extra = await castle(["check", "--version"]);
    assert.equal(extra.code, 2);
    assert.match(extra.err, /--version takes nothing else/);
  });

  it("castle with nothing prints the usage on stderr and exits 2", async () => {
    const { code, out, err } = await castle([]);
    assert.equal(code, 2);
    assert.equal(out, "");
    assert.match(err, /^usage: castle/);
  });
});

describe("castle: a wrong command line exits 2 and says what is wrong", () => {
  it("suggests the closest command for a typo", async () => {
    const { code, err } = await castle(["chek", "blue"]);
    assert.equal(code, 2);
    assert.match(err, /^castle: unknown command chek; did you mean check\?/);
    assert.equal(closestCommand("stauts"), "status");
    assert.equal(closestCommand("kubconfig"), "kubeconfig");
    assert.equal(closestCommand("rend"), "render");
    assert.equal(closestCommand("deploy"), undefined);
  });

  it("castle help <typo> suggests too", async () => {
    const { code, err } = await castle(["help", "doctr"]);
    assert.equal(code, 2);
    assert.match(err, /unknown command doctr; did you mean doctor\?/);
  });

  it("refuses extra positionals instead of ignoring them", async () => {
    const { code, out, err } = await castle(["check", "blue", "green"]);
    assert.equal(code, 2);
    assert.equal(out, "");
    assert.match(err, /castle check: too many arguments: green/);
    const status = await castle(["status", "blue", "green"]);
    assert.equal(status.code, 2);
    assert.match(
      status.err,
      /castle status: too many arguments: green \(castle status \[<stack>\] \[--json\]; one stack at a time\)/,
    );
  });

  it("names an unknown flag in its own words, not the parser's", async () => {
    const { code, err } = await castle(["check", "blue", "--colour"]);
    assert.equal(code, 2);
    assert.equal(err, "castle: unknown flag --colour (see castle help check)");
  });

  it("refuses a flag of another command", async () => {
    const { code, err } = await castle(["check", "blue", "--yes"]);
    assert.equal(code, 2);
    assert.match(err, /castle check: --yes does not apply here/);
  });

  it("asks which stack when none is given", async () => {
    const { code, err } = await castle(["doctor"]);
    assert.equal(code, 2);
    assert.match(err, /castle doctor: which stack\? \(e\.g\. castle doctor blue\)/);
  });

  it("refuses a stack together with --all", async () => {
    assert.equal((await castle(["check", "blue", "--all"])).code, 2);
  });
});

describe("castle check: where and what", () => {
  it("accepts a stack file pulumi stack init wrote its secrets provider into", async () => {
    // pulumi/pulumi v3.259.0 sdk/go/common/workspace/project.go ProjectStack: secretsprovider,
    // encryptedkey, encryptionsalt beside config: (a passphrase stack gets encryptionsalt).
    const dir = project();
    const file = path.join(dir, "Pulumi.blue.yaml");
    writeFileSync(
      file,
      `secretsprovider: passphrase\nencryptionsalt: v1:c2FsdA==:v1:bm9uY2U=:Y2lwaGVy\n${readFileSync(file, "utf8")}`,
    );
    const { code, out } = await castle(["check", "blue"], dir);
    assert.equal(code, 0, out);
  });

  it("takes a stack file name for its stack", async () => {
    const { code, out } = await castle(["check", "Pulumi.blue.yaml"]);
    assert.equal(code, 0);
    assert.match(out, /^stack blue \(Pulumi\.blue\.yaml\): ok/);
  });

  it("works from any subfolder of the project, found by walking up to Pulumi.yaml", async () => {
    const dir = project();
    const { code, out } = await castle(["check", "green"], path.join(dir, "deep", "er"));
    assert.equal(code, 0);
    assert.match(out, /^stack green \(Pulumi\.green\.yaml\): ok/);
  });

  it("takes a stack file by path, its folder being the project", async () => {
    const dir = project();
    const { code, out } = await castle(["check", path.join(dir, "Pulumi.green.yaml")], tmpdir());
    assert.equal(code, 0);
    assert.match(out, /^stack green/);
  });

  it("checks the home-lab example where it is, apart from the project's stacks", async () => {
    const { code, out } = await castle(["check", "examples/homelab/Pulumi.homelab.yaml"]);
    assert.equal(code, 0, out);
    assert.match(out, /^stack homelab \(Pulumi\.homelab\.yaml\): ok/);
    assert.match(out, /homelab-cp-1 +control plane +192\.168\.1\.51 +5001 +pve /);
    assert.match(out, /^workloads run on the control planes \(no workers\)$/m);
    assert.doesNotMatch((await castle(["check", "--all"])).out, /homelab/);
    assert.match(
      (await castle(["check", "blue"])).out,
      /^workloads run on the workers only \(control planes tainted\)$/m,
    );
  });

  it("renders the home-lab's control plane untainted, and blue's tainted", async () => {
    const homelab = await castle(["render", "examples/homelab/Pulumi.homelab.yaml"]);
    assert.equal(homelab.code, 0, homelab.err);
    assert.match(homelab.out, /^workloads on control planes: yes \(homelab-cp-1\)$/m);
    const blue = await castle(["render", "blue"]);
    assert.match(blue.out, /^workloads on control planes: no \(Talos taints them\)$/m);
  });

  it("refuses control planes told not to run workloads when there are no workers", async () => {
    const dir = project();
    const file = path.join(dir, "Pulumi.homelab.yaml");
    const text = readFileSync(path.join(ROOT, "examples/homelab/Pulumi.homelab.yaml"), "utf8");
    writeFileSync(
      file,
      text.replace("    version: v1.13.9\n", "    version: v1.13.9\n    allowSchedulingOnControlPlanes: false\n"),
    );
    const { code, out } = await castle(["check", file], tmpdir());
    assert.equal(code, 1);
    assert.match(out, /castle:talos\.allowSchedulingOnControlPlanes: is false, but the stack lists no workers/);
  });

  it("--all checks every stack and fails when one fails", async () => {
    const ok = await castle(["check", "--all"]);
    assert.equal(ok.code, 0);
    assert.match(ok.out, /^stack blue \(Pulumi\.blue\.yaml\): ok/m);
    assert.match(ok.out, /^stack green \(Pulumi\.green\.yaml\): ok/m);
    assert.match(ok.out, /all 2 stacks ok: blue, green$/);

    const dir = project();
    const green = readFileSync(path.join(dir, "Pulumi.green.yaml"), "utf8").replace(
      "cidr: 10.20.0.0/24",
      "cidr: 10.20.0.5/24",
    );
    writeFileSync(path.join(dir, "Pulumi.green.yaml"), green);
    const bad = await castle(["check", "--all"], path.join(dir, "deep"));
    assert.equal(bad.code, 1);
    assert.match(bad.out, /castle:network\.cidr: 10\.20\.0\.5\/24 has host bits set: the subnet is 10\.20\.0\.0\/24/);
    assert.match(bad.out, /1 of 2 stacks have problems: green$/);
  });

  it("checks a top-level key without the castle: prefix, as Pulumi puts it in the project namespace", async () => {
    const dir = project();
    const blue = readFileSync(path.join(dir, "Pulumi.blue.yaml"), "utf8").replace(
      "  castle:kubernetesVersion: 1.36.3\n",
      "  kubernetesVersion: 1.36\n  clustrName: typo\n",
    );
    writeFileSync(path.join(dir, "Pulumi.blue.yaml"), blue);
    const { code, out } = await castle(["check", "blue"], dir);
    assert.equal(code, 1);
    assert.match(out, /castle:kubernetesVersion: "1\.36": .*YAML reads 1\.36 as a number .*quoted, as "1\.36\.3"/);
    assert.match(out, /castle:clustrName: unknown key/);
  });

  it("loads neither the Pulumi SDK nor the providers", () => {
    // A fresh process: what `castle check` loads is all that is in its module cache afterwards.
    const script = `
      require("tsx/cjs");
      require("./cli/castle.ts").main(["check", "blue"], process.cwd(), { out() {} }).then((code) => {
        process.stdout.write(JSON.stringify({ code, modules: Object.keys(require.cache) }));
      });`;
    const { code, modules } = JSON.parse(
      execFileSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" }),
    );
    assert.equal(code, 0);
    const packages = new Set(
      (modules as string[]).flatMap((m) => {
        const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(m);
        return match ? [match[1]] : [];
      }),
    );
    for (const heavy of ["@pulumi/pulumi", "@pulumi/kubernetes", "@muhlba91/pulumi-proxmoxve", "@infisical/sdk"]) {
      assert.ok(!packages.has(heavy), `castle check loaded ${heavy}`);
    }
    assert.deepEqual(
      [...packages].filter((p) => !LOADER.includes(p)).sort(),
      ["fastest-levenshtein", "ipaddr.js", "yaml", "zod"],
      "check needs the schema (zod), the YAML reader, the address rules and the key suggestions only",
    );
    const own = (modules as string[]).filter((m) => !m.includes("node_modules")).map((m) => path.relative(ROOT, m));
    assert.deepEqual(own.sort(), [
      "cli/castle.ts",
      "cli/check.ts",
      "config/infisical-credentials.ts",
      "config/infisical-errors.ts",
      "config/load.ts",
      "config/pasted-secrets.ts",
      "config/rules.ts",
      "config/schema.ts",
      "config/topology.ts",
      "config/value-kinds.ts",
      "lib/net.ts",
      "lib/secret-like.ts",
      "lib/suggest.ts",
      "lib/talos-version.ts",
    ]);
  });

  it("castle doctor loads the Infisical SDK, and neither the Pulumi SDK nor the providers", () => {
    const script = `
      require("tsx/cjs");
      require("./cli/doctor.ts");
      process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
    const modules: string[] = JSON.parse(
      execFileSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" }),
    );
    const packages = new Set(modules.flatMap((m) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(m)?.[1] ?? []));
    assert.ok(packages.has("@infisical/sdk"), "doctor reads Infisical");
    for (const heavy of ["@pulumi/pulumi", "@pulumi/kubernetes", "@muhlba91/pulumi-proxmoxve"]) {
      assert.ok(!packages.has(heavy), `castle doctor loaded ${heavy}`);
    }
  });
});

describe("secrets pasted into a stack file", () => {
  const VALUES = [
    "SENTINEL-PASTED-TOKEN-6b1d",
    "SENTINEL-URL-PASSWORD-e2a0",
    "AAABAFSENTINELCIPHERTEXT",
    "SENTINEL-PVE-KEY-73aa",
  ];

  function pasted(): string {
    const dir = project();
    const blue = readFileSync(path.join(dir, "Pulumi.blue.yaml"), "utf8")
      .replace(
        "endpoint: https://pve.home.arpa:8006/",
        `endpoint: https://root@pam!ci=${VALUES[1]}@pve.home.arpa:8006/`,
      )
      .replace("    vlanId: 20\n", `    vlanId: 20\n    apiToken: ${VALUES[0]}\n`)
      .concat(`  castle:eso.webhookPassword:\n    secure: ${VALUES[2]}\n  proxmoxve:apiKey: ${VALUES[3]}\n`);
    writeFileSync(path.join(dir, "Pulumi.blue.yaml"), blue);
    return dir;
  }

  it("check refuses each with where it belongs, never echoing a value", async () => {
    const dir = pasted();
    const { code, out, err } = await castle(["check", "blue"], dir);
    assert.equal(code, 1);
    const folder = 'folder /castle/blue of environment "prod" (castle:infisical.secretPath)';
    // Only names the program reads: the Proxmox token's two secrets, never a name made from the key.
    const token = `secrets are read from Infisical: put the API token in ${folder} as PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET`;
    assert.ok(out.includes(`castle:proxmox.apiToken: the name says it holds a secret; ${token}`), out);
    assert.ok(
      out.includes(
        `castle:eso.webhookPassword: a Pulumi secret (secure: value) in the stack file; the castle reads no such secret (it reads TALOS_SECRETBOX_KEY, PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET, ESO_CLIENT_ID and ESO_CLIENT_SECRET from ${folder}); an application's secret goes in the cluster's folder (castle:eso.secretsPath)`,
      ),
      out,
    );
    assert.ok(out.includes(`proxmoxve:apiKey: the name says it holds a secret; ${token}`), out);
    assert.doesNotMatch(out, /PROXMOX_API_TOKEN|ESO_WEBHOOK_PASSWORD|\bAPI_KEY\b/);
    assert.match(
      out,
      /castle:proxmox\.endpoint: the URL carries credentials .* as PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET/,
    );
    for (const value of VALUES) assert.ok(!`${out}${err}`.includes(value), `echoed ${value}`);
    assert.ok(!out.includes("pve.home.arpa"), "the URL is not echoed either");
  });

  it("render refuses the same, writing nothing and echoing nothing", async () => {
    const dir = pasted();
    const { code, out, err } = await castle(["render", "blue", "--out", "rendered"], dir);
    assert.equal(code, 1);
    assert.match(err, /castle:proxmox\.apiToken: the name says it holds a secret/);
    for (const value of VALUES) assert.ok(!`${out}${err}`.includes(value), `echoed ${value}`);
    assert.ok(!existsSync(path.join(dir, "rendered")));
  });
});
