import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { main } from "../cli/castle";
import { FINGERPRINT_PLACEHOLDER, PLACEHOLDER_SECRETS, SECRET } from "../cli/render";
import { readStackFile } from "../config/load";
import { namespacesToCreate } from "../lib/eso-manifests";
import { secretboxKeyFingerprint } from "../lib/secretbox";
import { checkAgainstEsoCrd } from "./support/eso-crd-facts";
import { checkAgainstFluxCrd } from "./support/flux-crd-facts";
import { validateTalosDocument } from "./support/talos-config-facts";

const projectDir = path.resolve(__dirname, "..");

/** Every file under `dir`, relative path -> content. */
function readTree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const entry of readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const relative = path.join(sub, entry.name);
      if (entry.isDirectory()) walk(relative);
      else files[relative] = readFileSync(path.join(dir, relative), "utf8");
    }
  };
  walk("");
  return files;
}

async function renderTo(stack: string, dir: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(["render", stack, "--out", dir], projectDir, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out, err };
}

// Render needs no Infisical: it must neither use nor leak credentials that happen to be around.
const CREDENTIAL_SENTINELS = ["SENTINEL-RENDER-CLIENT-ID-77aa", "SENTINEL-RENDER-CLIENT-SECRET-91bc"];
process.env.INFISICAL_CLIENT_ID = CREDENTIAL_SENTINELS[0];
process.env.INFISICAL_CLIENT_SECRET = CREDENTIAL_SENTINELS[1];
process.env.INFISICAL_SITE_URL = "https://infisical.invalid";

for (const stack of ["blue", "green"]) {
  describe(`castle render ${stack}`, () => {
    const raw = readStackFile(projectDir, stack) as {
      kubernetesVersion: string;
      talos: { version: string; contract: string };
      controlPlanes: { hostname: string }[];
      workers: { hostname: string }[];
      eso: { allowedNamespaces: string[]; externalSecrets: { name: string; namespace: string }[] };
      gitops: { url: string; ref: string; path: string };
    };
    // The namespaces the castle creates for its ESO objects (the operator's own is always there).
    // (Flux's namespace is the GitOps component's own.)
    const appNamespaces = namespacesToCreate(raw.eso.allowedNamespaces, [], ["external-secrets", "flux-system"]);
    // 30 for the castle without GitOps, 5 for GitOps (component, namespace, operator, pull secret, instance).
    const resourceCount = 30 + appNamespaces.length + 5;
    const hostnames = [...raw.controlPlanes, ...raw.workers].map((n) => n.hostname).sort();
    const first = mkdtempSync(path.join(tmpdir(), `castle-render-${stack}-`));
    const second = mkdtempSync(path.join(tmpdir(), `castle-render-${stack}-`));
    let files: Record<string, string>;

    it("writes the files offline and prints the resource tree", async () => {
      const result = await renderTo(stack, first);
      assert.equal(result.code, 0, result.err.join("\n"));
      // The versions the castle runs, in the summary line.
      assert.equal(
        result.out[0],
        `castle render ${stack}: ${resourceCount} resources (Talos ${raw.talos.version}, Kubernetes ${raw.kubernetesVersion})`,
      );
      assert.ok(
        result.out.some((l) => /proxmoxve:index\/vmLegacy:VmLegacy proxmox-\S+ {2}nodeName=pve\d vmId=\d+/.test(l)),
      );
      files = readTree(first);
      assert.deepEqual(
        Object.keys(files).sort(),
        [
          "kubernetes/clustersecretstore-infisical.yaml",
          ...raw.eso.externalSecrets.map((e) => `kubernetes/externalsecret-${e.namespace}-${e.name}.yaml`),
          "kubernetes/helm-release-external-secrets-release.yaml",
          "kubernetes/namespace-external-secrets.yaml",
          ...appNamespaces.map((ns) => `kubernetes/namespace-${ns}.yaml`),
          "kubernetes/namespace-flux-system.yaml",
          "kubernetes/helm-release-gitops-operator.yaml",
          "kubernetes/externalsecret-flux-system-flux-git-credentials.yaml",
          "kubernetes/fluxinstance-flux-system-flux.yaml",
          "kubernetes/secret-external-secrets-infisical-credentials.yaml",
          ".castle-render.json",
          "resources.json",
          ...hostnames.map((h) => `talos/${h}.yaml`),
        ].sort(),
      );
    });

    it("gives the same bytes on a second run", async () => {
      assert.equal((await renderTo(stack, second)).code, 0);
      assert.deepEqual(readTree(second), files);
    });

    it("renders again into its own folder, keeping a file it did not write", async () => {
      writeFileSync(path.join(second, "NOTES.md"), "mine\n");
      writeFileSync(path.join(second, "talos", "extra.yaml"), "mine too\n");
      const result = await renderTo(stack, second);
      assert.equal(result.code, 0, result.err.join("\n"));
      assert.deepEqual(readTree(second), {
        ...files,
        "NOTES.md": "mine\n",
        [path.join("talos", "extra.yaml")]: "mine too\n",
      });
    });

    it("lists every resource with its type, parent and redacted inputs", () => {
      const { resources } = JSON.parse(files["resources.json"]) as {
        resources: { type: string; name: string; parent: string | null; custom: boolean; inputs: unknown }[];
      };
      assert.equal(resources.length, resourceCount);
      const provider = resources.find((r) => r.type === "pulumi:providers:proxmoxve");
      assert.equal((provider?.inputs as { apiToken?: string } | undefined)?.apiToken, SECRET);
      const vm = resources.find((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy");
      assert.equal(vm?.parent, "castle:index:ProxmoxNodes::proxmox");
      assert.equal(vm?.custom, true);
      assert.equal(resources.find((r) => r.type === "castle:index:TalosCluster")?.custom, false);
    });

    it("never writes a secret value", () => {
      for (const [file, text] of Object.entries(files)) {
        for (const value of [...Object.values(PLACEHOLDER_SECRETS), ...CREDENTIAL_SENTINELS]) {
          assert.ok(!text.includes(value), `${file} holds a secret`);
        }
      }
      assert.ok(files["resources.json"].includes(`"${SECRET}"`));
    });

    it("marks the placeholder key's fingerprint as a placeholder, never as a real tag", () => {
      const placeholderHex = secretboxKeyFingerprint(PLACEHOLDER_SECRETS.secretboxKey).slice("sha256:".length);
      for (const [file, text] of Object.entries(files)) assert.ok(!text.includes(placeholderHex), file);
      const vms = (
        JSON.parse(files["resources.json"]) as { resources: { type: string; inputs: { tags?: string[] } }[] }
      ).resources.filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy");
      const tagged = vms.filter((vm) => vm.inputs.tags?.includes(`castle-key-sha256-${FINGERPRINT_PLACEHOLDER}`));
      assert.equal(tagged.length, raw.controlPlanes.length, "every control plane's key tag is marked");
    });

    it("names the Kubernetes version and the Talos contract in each node's Talos file", () => {
      for (const hostname of hostnames) {
        const [, second] = files[`talos/${hostname}.yaml`].split("\n");
        assert.equal(second, `# Kubernetes ${raw.kubernetesVersion}, Talos config contract ${raw.talos.contract}`);
      }
    });

    it("writes Talos patches valid for Talos v1.13, the secretbox key only on control planes and redacted", () => {
      for (const hostname of hostnames) {
        const docs = parseAllDocuments(files[`talos/${hostname}.yaml`]).map((d) => d.toJS());
        for (const doc of docs) assert.deepEqual(validateTalosDocument(doc), [], `${hostname}: ${JSON.stringify(doc)}`);
        const hostnameDoc = docs.find((d) => d.kind === "HostnameConfig");
        assert.equal(hostnameDoc?.hostname, hostname);
        const secretbox = docs.find((d) => d.cluster?.secretboxEncryptionSecret !== undefined);
        const isControlPlane = raw.controlPlanes.some((n) => n.hostname === hostname);
        assert.equal(secretbox?.cluster.secretboxEncryptionSecret, isControlPlane ? SECRET : undefined);
        assert.equal(
          docs.some((d) => d.kind === "Layer2VIPConfig"),
          isControlPlane,
          `${hostname}: VIP only on control planes`,
        );
      }
    });

    it("writes a ClusterSecretStore and ExternalSecrets valid for ESO v2.9.0", () => {
      const store = parse(files["kubernetes/clustersecretstore-infisical.yaml"]);
      assert.deepEqual(checkAgainstEsoCrd(store), []);
      for (const e of raw.eso.externalSecrets) {
        assert.deepEqual(
          checkAgainstEsoCrd(parse(files[`kubernetes/externalsecret-${e.namespace}-${e.name}.yaml`])),
          [],
        );
      }
      const release = parse(files["kubernetes/helm-release-external-secrets-release.yaml"]);
      assert.equal(release.chart, "external-secrets");
      assert.equal(release.version, "2.9.0");
      assert.equal(release.repositoryOpts.repo, "https://charts.external-secrets.io");
      assert.equal(release.values.installCRDs, true);
    });

    it("writes the Flux Operator release, the FluxInstance and the pull-secret ExternalSecret", () => {
      const release = parse(files["kubernetes/helm-release-gitops-operator.yaml"]);
      assert.equal(release.chart, "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator");
      assert.equal(release.version, "0.58.1");
      assert.equal(release.repositoryOpts, undefined);
      assert.equal(release.namespace, "flux-system");
      assert.deepEqual(release.values, {
        installCRDs: true,
        multitenancy: { enabled: false },
        web: { enabled: false },
      });
      const instance = parse(files["kubernetes/fluxinstance-flux-system-flux.yaml"]);
      assert.deepEqual(checkAgainstFluxCrd(instance), []);
      assert.deepEqual(
        { url: instance.spec.sync.url, ref: instance.spec.sync.ref, path: instance.spec.sync.path },
        { url: raw.gitops.url, ref: raw.gitops.ref, path: raw.gitops.path },
      );
      const pullSecret = parse(files["kubernetes/externalsecret-flux-system-flux-git-credentials.yaml"]);
      assert.deepEqual(checkAgainstEsoCrd(pullSecret), []);
      assert.equal(pullSecret.spec.target.name, instance.spec.sync.pullSecret);
    });
  });
}

describe("castle render --out refuses a folder it did not write", () => {
  it("leaves a non-empty foreign folder (a checkout) as it was", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "castle-render-foreign-"));
    mkdirSync(path.join(dir, ".git"));
    writeFileSync(path.join(dir, ".git", "HEAD"), "ref: refs/heads/main\n");
    writeFileSync(path.join(dir, "keep.txt"), "keep\n");
    const before = readTree(dir);
    const result = await renderTo("blue", dir);
    assert.equal(result.code, 1);
    assert.match(
      result.err.join("\n"),
      /is not empty and castle render did not write it \(no \.castle-render\.json in it\); nothing was written or removed/,
    );
    assert.deepEqual(readTree(dir), before);
  });

  it("refuses a file given as the folder", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "castle-render-file-"));
    const file = path.join(dir, "a-file");
    writeFileSync(file, "x\n");
    const result = await renderTo("blue", file);
    assert.equal(result.code, 1);
    assert.match(result.err.join("\n"), /exists and is not a folder/);
    assert.equal(readFileSync(file, "utf8"), "x\n");
  });
});

describe("castle render of a bad stack", () => {
  it("exits 1 with the problems and writes nothing", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "castle-render-bad-"));
    const blue = readFileSync(path.join(projectDir, "Pulumi.blue.yaml"), "utf8").replace(
      "vip: 10.20.0.10",
      "vip: 10.20.0.11",
    );
    writeFileSync(path.join(dir, "Pulumi.blue.yaml"), blue);
    const err: string[] = [];
    const code = await main(["render", "blue", "--out", "out"], dir, { out: () => {}, err: (l) => err.push(l) });
    assert.equal(code, 1);
    assert.match(err.join("\n"), /castle:controlPlanes\[0\]\.ip: 10\.20\.0\.11 is also the VIP/);
    assert.deepEqual(readdirSync(dir), ["Pulumi.blue.yaml"]);
  });
});
