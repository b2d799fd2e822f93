/**
 * The one test of what looks like a secret (lib/secret-like.ts), and of the value kinds built on it
 * (config/value-kinds.ts): a table of secrets that must be caught, each with the kind it is taken for,
 * and of ordinary names and URLs that must pass. Every refusal is checked not to hold the value.
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { infisicalFolder, infisicalKeyName, isUnquotedIssue, kubernetesName, url } from "../config/value-kinds";
import { secretLikeReason } from "../lib/secret-like";

/** Secrets, each with a phrase of the kind it must be taken for. */
const SECRETS: [what: string, value: string, kind: RegExp][] = [
  ["GitHub classic token", `ghp_${"aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z0"}`, /GitHub token/],
  ["GitHub fine-grained token", "github_pat_11ABCDEFG0abcdefghijklmnopqrstuvwxyz", /GitHub token/],
  ["GitLab token", "glpat-Abcdefghij1234567890", /GitLab token/],
  ["Slack bot token", "xoxb-1234567890-abcdefghij", /Slack token/],
  ["npm token", `npm_${"a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6"}`, /npm token/],
  ["Pulumi access token", `pul-${"0123456789abcdef0123456789abcdef01234567"}`, /Pulumi access token/],
  ["Vault token", "hvs.CAESIJabcdefghijklmnopqrstuvwx", /Vault token/],
  ["Infisical service token", `st.1a2b3c4d-5e6f.${"0123456789abcdef0123"}`, /Infisical service token/],
  ["AWS access key id", "AKIAIOSFODNN7EXAMPLE", /AWS access key id/],
  ["Google API key", `AIza${"SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"}`, /Google API key/],
  ["sk- API key", `sk-${"proj-Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8"}`, /API secret key/],
  ["JSON Web Token", "eyJhbGciOiJIUzI1NiJ9.eyJpZGVudGl0eUlkIjoiMSJ9.c2ln", /JSON Web Token/],
  ["PEM private key", "-----BEGIN PRIVATE KEY-----", /PEM block/],
  ["OpenSSH private key", "-----BEGIN OPENSSH PRIVATE KEY-----", /PEM block/],
  ["certificate", "-----BEGIN CERTIFICATE-----", /PEM block/],
  ["Proxmox token secret (UUID)", "5f0a7c2e-0c1d-4f7e-9a55-2b0f4c1d9e3a", /UUID/],
  ["random UUID", randomUUID(), /UUID/],
  ["Infisical client secret (64 hex)", randomBytes(32).toString("hex"), /hex digits/],
  ["upper-case hex", randomBytes(16).toString("hex").toUpperCase(), /hex digits/],
  ["secretbox key (base64)", "q3Xv9kLm2Pz7Rt5Wy8Bn4Jd6Hf1Gs0Ac+/EuTo3Ni5Q=", /long base64/],
  ["base64url token", "Zm9vYmFyYmF6cXV4-_Zm9vYmFyYmF6cXV4", /long base64/],
  ["long lower-case base64 with no word break", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnop", /long base64/],
  ["bare random letters", "qwertzuiopasdfghjkl", /high-entropy/],
  [
    "secret inside a URL path",
    "https://git.example.com/org/repo.git/ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z0",
    /GitHub/,
  ],
];

/** Ordinary names and URLs the castle's stack files hold: none may be taken for a secret. */
const NAMES = [
  "FLUX_GIT_TOKEN",
  "GRAFANA_ADMIN_PASSWORD",
  "TALOS_SECRETBOX_KEY",
  "PROXMOX_TOKEN_SECRET",
  "ESO_CLIENT_SECRET",
  "FLUX_SSH_IDENTITY",
  "castle-blue",
  "blue-cp-1",
  "external-secrets",
  "image-automation-controller",
  "notification-controller",
  "letsencrypt-production-issuer",
  "/castle/blue",
  "/apps/green",
  "/apps/team-observability/grafana",
  "clusters/production-eu-west-1",
  "refs/heads/main",
  "refs/tags/v1.2.0",
  "https://eu.infisical.com",
  "https://pve.example.internal:8006/",
  "https://github.com/example-org/castle-gitops.git",
  "ssh://git@github.com/example-org/castle-gitops.git",
  "ghcr.io/fluxcd",
  "local-lvm",
  "vmbr0",
  "sk-app",
  "ghp_short",
  "MyApplicationKey",
  "database-credentials-v2",
  "w".repeat(63),
];

describe("secretLikeReason: secrets caught", () => {
  for (const [what, value, kind] of SECRETS) {
    it(what, () => {
      const reason = secretLikeReason(value);
      assert.match(reason ?? "(taken for a name)", kind);
      assert.ok(!(reason ?? "").includes(value.slice(0, 6)), "the reason never holds the value");
    });
  }
});

describe("secretLikeReason: ordinary names pass", () => {
  for (const name of NAMES) {
    it(name.length > 40 ? `${name.slice(0, 20)}...` : name, () => {
      assert.equal(secretLikeReason(name), undefined);
    });
  }
});

describe("value kinds refuse a secret without quoting it, and accept names", () => {
  const kinds = {
    infisicalKeyName: infisicalKeyName("FLUX_GIT_TOKEN"),
    kubernetesName: kubernetesName("namespace"),
    infisicalFolder: infisicalFolder("/apps/blue"),
    url: url({ what: "a URL", schemes: ["https", "ssh"], sshUser: true, example: "https://host/repo.git" }),
  };
  const accepted: [keyof typeof kinds, string][] = [
    ["infisicalKeyName", "FLUX_GIT_TOKEN"],
    ["infisicalKeyName", "GRAFANA_ADMIN_PASSWORD"],
    ["kubernetesName", "castle-blue"],
    ["infisicalFolder", "/apps/blue"],
    ["url", "https://github.com/example-org/castle-gitops.git"],
    ["url", "ssh://git@github.com/example-org/castle-gitops.git"],
  ];
  for (const [kind, value] of accepted) {
    it(`${kind} accepts ${value}`, () => assert.equal(kinds[kind].safeParse(value).success, true));
  }
  const refused: [keyof typeof kinds, string, RegExp][] = [
    ["infisicalKeyName", "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z0", /looks like a GitHub token/],
    ["infisicalKeyName", "with space+plus", /it holds a space and '\+'/],
    ["kubernetesName", "5f0a7c2e-0c1d-4f7e-9a55-2b0f4c1d9e3a", /looks like a UUID/],
    ["kubernetesName", "Blue_Castle", /it holds 'B', '_' and 'C'/],
    ["infisicalFolder", "/apps/q3Xv9kLm2Pz7Rt5Wy8Bn4Jd6", /looks like long base64/],
    ["infisicalFolder", "/apps/../castle", /'\.\.' steps/],
    ["url", "https:root:Hunter2pw@host.example", /written with its scheme and '\/\/'/],
    ["url", "https://root:Hunter2pw@host.example", /carries a password/],
    ["url", "https://Hunter2tok@host.example", /carries a user or token/],
    ["url", "ssh://git:Hunter2pw@host.example/r.git", /carries a password/],
    ["url", "https://host.example/r.git?token=hunterpass", /carries a query/],
    ["url", "https://host.example/r.git#hunterpass", /carries a fragment/],
    ["url", "http://host.example/r.git", /must use https:\/\/ or ssh:\/\//],
    ["url", "git@host.example:org/repo.git", /scp-like/],
  ];
  for (const [kind, value, says] of refused) {
    it(`${kind} refuses ${says.source}`, () => {
      const parsed = kinds[kind].safeParse(value, { reportInput: true });
      assert.equal(parsed.success, false);
      const issues = parsed.error?.issues ?? [];
      assert.equal(issues.length, 1);
      assert.match(issues[0].message, says);
      assert.ok(isUnquotedIssue(issues[0]), "marked so the loader prints it without the value");
      for (const piece of ["Hunter2", "hunterpass", "aB3dE5", "5f0a7c2e", "q3Xv9k"]) {
        assert.ok(!issues[0].message.includes(piece), `the message holds ${piece}`);
      }
    });
  }
});
