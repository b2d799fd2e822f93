import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type GitOps, gitCredentialKeys, resolveGitOps } from "../config/gitops";
import { GitOpsSchema } from "../config/schema";
import {
  FLUX_INSTANCE_TIMEOUT_SECONDS,
  fluxInstanceManifest,
  fluxOperatorHelmValues,
  gitPullSecretManifest,
  PULL_SECRET_TIMEOUT_SECONDS,
} from "../lib/flux-manifests";
import { checkAgainstEsoCrd } from "./support/eso-crd-facts";
import { checkAgainstFluxCrd } from "./support/flux-crd-facts";

const URL_HTTPS = "https://git.example.internal/castle/fleet.git";
const URL_SSH = "ssh://git@git.example.internal/castle/fleet.git";

/** `castle:gitops` as the schema and resolveGitOps make it. */
function settings(raw: Record<string, unknown>, clusterName = "blue"): GitOps {
  const gitops = resolveGitOps({ clusterName, gitops: GitOpsSchema.parse(raw) });
  assert.ok(gitops);
  return gitops;
}

describe("castle:gitops defaults", () => {
  it("fills in the pinned versions, refs/heads/main, 1m and clusters/<clusterName>", () => {
    assert.deepEqual(settings({ url: URL_HTTPS }, "green"), {
      url: URL_HTTPS,
      ref: "refs/heads/main",
      path: "clusters/green",
      interval: "1m",
      operatorChartVersion: "0.58.1",
      fluxVersion: "2.9.4",
      registry: "ghcr.io/fluxcd",
      components: ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"],
    });
  });

  it("keeps a path the stack sets, and is off without castle:gitops", () => {
    assert.equal(settings({ url: URL_HTTPS, path: "fleet/blue" }).path, "fleet/blue");
    assert.equal(resolveGitOps({ clusterName: "blue", gitops: undefined }), undefined);
  });

  it("names the Infisical keys the credentials need (for castle doctor), names only", () => {
    assert.deepEqual(gitCredentialKeys({ gitops: undefined }), []);
    assert.deepEqual(gitCredentialKeys({ gitops: GitOpsSchema.parse({ url: URL_HTTPS }) }), []);
    assert.deepEqual(
      gitCredentialKeys({ gitops: GitOpsSchema.parse({ url: URL_HTTPS, credentials: { token: "FLUX_GIT_TOKEN" } }) }),
      [{ configKey: "castle:gitops.credentials.token", name: "FLUX_GIT_TOKEN" }],
    );
    assert.deepEqual(
      gitCredentialKeys({
        gitops: GitOpsSchema.parse({ url: URL_SSH, credentials: { sshIdentity: "KEY", sshKnownHosts: "HOSTS" } }),
      }),
      [
        { configKey: "castle:gitops.credentials.sshIdentity", name: "KEY" },
        { configKey: "castle:gitops.credentials.sshKnownHosts", name: "HOSTS" },
      ],
    );
  });
});

describe("fluxInstanceManifest", () => {
  const withToken = settings({ url: URL_HTTPS, credentials: { token: "FLUX_GIT_TOKEN" } });

  it("builds the FluxInstance flux in flux-system, awaited Ready, syncing the stack's repository", () => {
    assert.deepEqual(fluxInstanceManifest(withToken), {
      apiVersion: "fluxcd.controlplane.io/v1",
      kind: "FluxInstance",
      metadata: {
        name: "flux",
        namespace: "flux-system",
        annotations: {
          "pulumi.com/waitFor": "condition=Ready",
          "pulumi.com/timeoutSeconds": String(FLUX_INSTANCE_TIMEOUT_SECONDS),
        },
      },
      spec: {
        distribution: { version: "2.9.4", registry: "ghcr.io/fluxcd" },
        components: ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"],
        cluster: { type: "kubernetes", domain: "cluster.local", networkPolicy: true, multitenant: false },
        wait: true,
        sync: {
          kind: "GitRepository",
          url: URL_HTTPS,
          ref: "refs/heads/main",
          path: "clusters/blue",
          interval: "1m",
          pullSecret: "flux-system",
        },
      },
    });
  });

  it("is valid against the FluxInstance CRD facts, with and without credentials, over https and ssh", () => {
    for (const gitops of [
      withToken,
      settings({ url: URL_HTTPS }),
      settings({ url: URL_SSH, ref: "refs/tags/v1.2.0", credentials: { sshIdentity: "K", sshKnownHosts: "H" } }),
      settings({ url: URL_HTTPS, components: ["source-controller", "kustomize-controller", "source-watcher"] }),
    ]) {
      assert.deepEqual(checkAgainstFluxCrd(fluxInstanceManifest(gitops)), []);
    }
  });

  it("sets no pullSecret for a public repository", () => {
    assert.equal("pullSecret" in fluxInstanceManifest(settings({ url: URL_HTTPS })).spec.sync, false);
  });
});

describe("the FluxInstance checker fails on what the CRD refuses", () => {
  const good = () => structuredClone(fluxInstanceManifest(settings({ url: URL_HTTPS, credentials: { token: "T" } })));
  // biome-ignore lint/suspicious/noExplicitAny: the rows break manifests on purpose.
  const rows: { name: string; edit: (m: any) => void; problem: string }[] = [
    {
      name: "an unserved version",
      edit: (m) => (m.apiVersion = "fluxcd.controlplane.io/v1beta1"),
      problem: 'FluxInstance flux: apiVersion: "fluxcd.controlplane.io/v1beta1" is not served',
    },
    {
      name: "another name",
      edit: (m) => (m.metadata.name = "flux-blue"),
      problem: "FluxInstance flux-blue: metadata.name: the only accepted name for a FluxInstance is 'flux'",
    },
    {
      name: "no registry",
      edit: (m) => delete m.spec.distribution.registry,
      problem: "FluxInstance flux: spec.distribution.registry: required field missing",
    },
    {
      name: "an unknown controller",
      edit: (m) => m.spec.components.push("flagger"),
      problem: 'FluxInstance flux: spec.components[4]: "flagger" is not one of',
    },
    {
      name: "a field the CRD does not have",
      edit: (m) => (m.spec.sync.branch = "main"),
      problem: "FluxInstance flux: spec.sync.branch: unknown field",
    },
    {
      name: "a sync without a path",
      edit: (m) => delete m.spec.sync.path,
      problem: "FluxInstance flux: spec.sync.path: required field missing",
    },
    {
      name: "an interval that is not a Go duration",
      edit: (m) => (m.spec.sync.interval = "1d"),
      problem: 'FluxInstance flux: spec.sync.interval: "1d" does not match',
    },
    {
      name: "a scp-like URL",
      edit: (m) => (m.spec.sync.url = "git@host:org/repo.git"),
      problem: 'FluxInstance flux: spec.sync.url: "git@host:org/repo.git" is refused by the GitRepository',
    },
    {
      name: "a bare branch as ref",
      edit: (m) => (m.spec.sync.ref = "main"),
      problem: 'FluxInstance flux: spec.sync.ref: "main" becomes the GitRepository\'s ref.name',
    },
    {
      name: "the gcp provider on Git",
      edit: (m) => (m.spec.sync.provider = "gcp"),
      problem: "FluxInstance flux: spec.sync.provider: 'gcp' is only supported for OCIRepository and Bucket",
    },
    {
      name: "wait as a string",
      edit: (m) => (m.spec.wait = "true"),
      problem: "FluxInstance flux: spec.wait: expected boolean, got string",
    },
    {
      name: "an absolute path",
      edit: (m) => (m.spec.sync.path = "/clusters/blue"),
      problem: 'FluxInstance flux: spec.sync.path: "/clusters/blue" must be relative',
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const manifest = good();
      row.edit(manifest);
      const problems = checkAgainstFluxCrd(manifest);
      assert.ok(
        problems.some((p) => p.startsWith(row.problem)),
        `expected a problem starting with ${JSON.stringify(row.problem)}, got ${JSON.stringify(problems)}`,
      );
    });
  }
});

describe("gitPullSecretManifest", () => {
  it("HTTPS token: username git and the token as password, through the Git credential's store, awaited Ready", () => {
    const manifest = gitPullSecretManifest({ credentials: { token: "FLUX_GIT_TOKEN" } }, "flux-git");
    assert.deepEqual(manifest, {
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: {
        name: "flux-git-credentials",
        namespace: "flux-system",
        annotations: {
          "pulumi.com/waitFor": "condition=Ready",
          "pulumi.com/timeoutSeconds": String(PULL_SECRET_TIMEOUT_SECONDS),
        },
      },
      spec: {
        refreshInterval: "1h",
        secretStoreRef: { kind: "SecretStore", name: "flux-git" },
        target: {
          name: "flux-system",
          creationPolicy: "Owner",
          template: {
            engineVersion: "v2",
            mergePolicy: "Replace",
            type: "Opaque",
            data: { username: "git", password: "{{ .token }}" },
          },
        },
        data: [{ secretKey: "token", remoteRef: { key: "FLUX_GIT_TOKEN" } }],
      },
    });
    assert.deepEqual(checkAgainstEsoCrd(manifest), []);
  });

  it("SSH: identity and known_hosts, the keys source-controller reads", () => {
    const manifest = gitPullSecretManifest(
      { credentials: { sshIdentity: "FLUX_SSH_IDENTITY", sshKnownHosts: "FLUX_SSH_KNOWN_HOSTS" } },
      "infisical",
    );
    assert.ok(manifest);
    assert.deepEqual(manifest.spec.target.template.data, {
      identity: "{{ .identity }}",
      known_hosts: "{{ .known_hosts }}",
    });
    assert.deepEqual(manifest.spec.data, [
      { secretKey: "identity", remoteRef: { key: "FLUX_SSH_IDENTITY" } },
      { secretKey: "known_hosts", remoteRef: { key: "FLUX_SSH_KNOWN_HOSTS" } },
    ]);
    assert.deepEqual(checkAgainstEsoCrd(manifest), []);
    // Every template variable is a data secretKey, so ESO has a value for it.
    const variables = Object.values(manifest.spec.target.template.data).map((t) => /\{\{ \.(\S+) \}\}/.exec(t)?.[1]);
    assert.deepEqual(
      variables,
      manifest.spec.data.map((d) => d.secretKey),
    );
  });

  it("a private CA: ca.crt, the key Flux reads (fluxcd/pkg runtime/secrets KeyCACert), with a token or alone", () => {
    const withToken = gitPullSecretManifest({ credentials: { token: "FLUX_GIT_TOKEN", caCert: "GIT_CA_CERT" } }, "s");
    assert.ok(withToken);
    assert.deepEqual(withToken.spec.target.template.data, {
      username: "git",
      password: "{{ .token }}",
      "ca.crt": "{{ .caCert }}",
    });
    assert.deepEqual(withToken.spec.data, [
      { secretKey: "token", remoteRef: { key: "FLUX_GIT_TOKEN" } },
      { secretKey: "caCert", remoteRef: { key: "GIT_CA_CERT" } },
    ]);
    assert.deepEqual(checkAgainstEsoCrd(withToken), []);
    const alone = gitPullSecretManifest({ credentials: { caCert: "GIT_CA_CERT" } }, "s");
    assert.deepEqual(alone?.spec.target.template.data, { "ca.crt": "{{ .caCert }}" });
    // SSH trusts known_hosts only: a CA beside SSH keys is refused, never written.
    assert.throws(
      () => gitPullSecretManifest({ credentials: { sshIdentity: "K", sshKnownHosts: "H", caCert: "C" } }, "s"),
      /either token and\/or caCert/,
    );
  });

  it("is absent for a public repository and refuses half-set credentials", () => {
    assert.equal(gitPullSecretManifest({ credentials: undefined }, "infisical"), undefined);
    assert.throws(() => gitPullSecretManifest({ credentials: { sshIdentity: "K" } }, "infisical"), /sshKnownHosts/);
    assert.throws(() => gitPullSecretManifest({ credentials: {} }, "infisical"), /either token/);
    assert.throws(() => gitPullSecretManifest({ credentials: { token: "T", sshIdentity: "K" } }, "s"), /either token/);
  });

  it("the ESO checker fails on a template ESO refuses", () => {
    const manifest = structuredClone(gitPullSecretManifest({ credentials: { token: "T" } }, "infisical"));
    assert.ok(manifest);
    const broken = manifest as unknown as { spec: { target: { template: Record<string, unknown> } } };
    broken.spec.target.template.engineVersion = "v1";
    broken.spec.target.template.data = { password: 42 };
    broken.spec.target.template.namespace = "flux-system";
    assert.deepEqual(checkAgainstEsoCrd(manifest), [
      'ExternalSecret flux-git-credentials: spec.target.template.engineVersion: "v1" is not one of v2',
      "ExternalSecret flux-git-credentials: spec.target.template.data.password: expected string, got integer",
      "ExternalSecret flux-git-credentials: spec.target.template.namespace: unknown field (known: data, engineVersion, mergePolicy, metadata, templateFrom, type)",
    ]);
  });
});

describe("fluxOperatorHelmValues", () => {
  it("installs the operator's CRDs, no web UI, no ResourceSet lock-down", () => {
    assert.deepEqual(fluxOperatorHelmValues(), {
      installCRDs: true,
      web: { enabled: false },
      multitenancy: { enabled: false },
    });
  });
});
