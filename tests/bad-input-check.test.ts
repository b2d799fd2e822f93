/**
 * The table of bad stack configs: each row edits a copy of Pulumi.blue.yaml, writes it into a fresh project
 * directory beside an unmodified Pulumi.green.yaml (so the cross-stack rules run), and runs
 * `castle check blue` through `main`. A refused row pins the exit code, the number of problems and, in the
 * order printed, the key of each and one phrase that tells its rule apart, so rewording a message breaks no
 * row while a rule that stops firing, fires at another key or fires twice does. About ten rows pin the
 * whole output instead: they are the wording checks, one for each shape of message (schema, YAML, a
 * cross-field rule, a cross-stack rule, several problems at once). A few rows are unusual but valid and
 * must pass.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { stringify } from "yaml";
import { main } from "../cli/castle";
import { check } from "../cli/check";
import { readStackFile } from "../config/load";
import { nodesWithPaths } from "../config/rules";
import { planImages } from "../lib/placement";
import { readBothWays } from "./support/both-ways";

// biome-ignore lint/suspicious/noExplicitAny: rows edit the raw stack freely to build bad cases.
type RawStack = Record<string, any>;

const ROOT = path.resolve(__dirname, "..");
const BLUE_TEXT = readFileSync(path.join(ROOT, "Pulumi.blue.yaml"), "utf8");
const GREEN_TEXT = readFileSync(path.join(ROOT, "Pulumi.green.yaml"), "utf8");
const DNS_LABEL_RULE =
  "must be a DNS label: lower-case letters, digits and '-', 1-63 characters, starting and ending with a letter or digit";
const CROSS = "stacks must not share addresses, VM IDs or names";

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The blue stack's `castle:` keys, prefix removed, as a fresh copy. */
const blueRaw = (): RawStack => structuredClone(readStackFile(ROOT, "blue")) as RawStack;

/** A stack file holding `raw` as its `castle:` keys. */
function stackText(raw: RawStack): string {
  return stringify({ config: Object.fromEntries(Object.entries(raw).map(([key, value]) => [`castle:${key}`, value])) });
}

/** Writes a project directory with the given stack files. */
function project(files: { blue: string; green?: string }): string {
  const dir = mkdtempSync(path.join(tmpdir(), "castle-bad-input-"));
  dirs.push(dir);
  writeFileSync(path.join(dir, "Pulumi.blue.yaml"), files.blue);
  writeFileSync(path.join(dir, "Pulumi.green.yaml"), files.green ?? GREEN_TEXT);
  return dir;
}

/** `castle check blue` in `dir`: exit code and everything it printed. */
async function checkBlue(dir: string): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await main(["check", "blue"], dir, { out: (line) => lines.push(line), err: (line) => lines.push(line) });
  return { code, text: lines.join("\n") };
}

/** What a refused stack prints: the count line, then one line per problem. */
function refusal(problems: string[]): string {
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return [`stack "blue" (Pulumi.blue.yaml) has ${count}:`, ...problems.map((p) => `  - ${p}`)].join("\n");
}

/** A problem as `castle:<key>: <message>`: the key without `castle:` (or the file, for a YAML error), and a phrase of the message. */
type Refused = [key: string, says: string];

/**
 * The problem lines of `text` as `[key, says]` where the line at that place has that key and holds that
 * phrase, and as `[key, line]` where it does not: compared whole against the row, a difference shows
 * the line that was printed.
 */
function asRefused(text: string, expected: Refused[]): Refused[] {
  return text
    .split("\n")
    .slice(1)
    .map((line, i) => {
      const [where, message] = [line.slice(4, line.indexOf(": ")), line.slice(line.indexOf(": ") + 2)];
      const key = where.replace(/^castle:/, "");
      const says = expected[i]?.[1];
      return [key, says !== undefined && message.includes(says) ? says : line];
    });
}

interface Row {
  name: string;
  /** Edits the blue stack's `castle:` keys. */
  edit?: (raw: RawStack) => void;
  /** Edits the text of Pulumi.blue.yaml instead (for faults the YAML parser meets first). */
  text?: (yaml: string) => string;
  /** Replaces Pulumi.green.yaml. */
  green?: string;
  code: 0 | 1;
  /** For code 1: each problem in the order printed, as its key and a phrase of its message. */
  refused?: Refused[];
  /** For code 1, instead of `refused` (wording rows): every problem line, `castle:<key>: <message>`, verbatim. */
  wording?: string[];
  /** Text the output must not hold anywhere (credentials written into a value). */
  never?: string[];
  /** For code 0: lines the summary must hold, verbatim. */
  summary?: string[];
}

const rows: Row[] = [
  // --- top-level keys -------------------------------------------------------------------------
  {
    name: "cluster name not a DNS label",
    edit: (r) => (r.clusterName = "Blue"),
    code: 1,
    wording: [`castle:clusterName: clusterName ${DNS_LABEL_RULE}; it holds 'B'`],
  },
  {
    name: "Kubernetes version with a leading v",
    edit: (r) => (r.kubernetesVersion = "v1.36.3"),
    code: 1,
    refused: [["kubernetesVersion", "(no leading v)"]],
  },
  {
    name: "Kubernetes version written 1.36, which YAML reads as a number",
    text: (y) => y.replace("castle:kubernetesVersion: 1.36.3", "castle:kubernetesVersion: 1.36"),
    code: 1,
    wording: [
      `castle:kubernetesVersion: "1.36": must be a Kubernetes version such as 1.36.3 (no leading v); unquoted, YAML reads 1.36 as a number and drops what follows: write it in full, quoted, as "1.36.3"`,
    ],
  },
  {
    name: "misspelt top-level key",
    edit: (r) => (r.contolPlanes = []),
    code: 1,
    wording: ["castle:contolPlanes: unknown key; did you mean controlPlanes?"],
  },
  {
    name: "missing top-level key",
    edit: (r) => delete r.eso,
    code: 1,
    refused: [["eso", "is required (expected object)"]],
  },
  {
    name: "a section that is null",
    edit: (r) => (r.network = null),
    code: 1,
    refused: [["network", "expected a map of keys"]],
  },
  {
    name: "empty stack file: every required key named",
    text: () => "",
    code: 1,
    wording: [
      "castle:clusterName: is required (expected string)",
      "castle:kubernetesVersion: is required (expected string)",
      "castle:talos: is required (expected object)",
      "castle:proxmox: is required (expected object)",
      "castle:network: is required (expected object)",
      "castle:controlPlanes: is required (expected array)",
      "castle:infisical: is required (expected object)",
      "castle:eso: is required (expected object)",
    ],
  },
  {
    name: "the same castle: key twice in the file",
    text: (y) => y.replace("  castle:workers:", "  castle:clusterName: blue-2\n  castle:workers:"),
    code: 1,
    refused: [["Pulumi.blue.yaml", "Map keys must be unique"]],
  },
  {
    name: "a tab used for indentation",
    text: (y) => y.replace("    version: v1.13.9", "\tversion: v1.13.9"),
    code: 1,
    wording: ["Pulumi.blue.yaml: not valid YAML: Tabs are not allowed as indentation at line 8, column 1"],
  },

  // --- found by these tables, then made rules ----------------------------------------------------
  {
    name: "Infisical site URL with /api (the SDK would call /api/api/...)",
    edit: (r) => (r.infisical.siteUrl = "https://eu.infisical.com/api"),
    code: 1,
    refused: [["infisical.siteUrl", "must be the server root without a path"]],
  },
  {
    name: "node-local image datastore declared shared (image on one Proxmox node only)",
    edit: (r) => (r.proxmox.imageDatastoreShared = true),
    code: 1,
    refused: [["proxmox.imageDatastoreShared", "the image would land on one Proxmox node only"]],
  },
  {
    name: "ExternalSecret in a namespace that may not use the store",
    edit: (r) => (r.eso.externalSecrets[0].namespace = "default"),
    code: 1,
    refused: [["eso.externalSecrets[0].namespace", "default may not use the store"]],
  },

  // --- castle:gitops ----------------------------------------------------------------------------
  {
    name: "Git URL over plain http",
    edit: (r) => (r.gitops.url = "http://git.home.arpa/castle/fleet.git"),
    code: 1,
    refused: [["gitops.url", "must use https:// or ssh://"]],
  },
  {
    name: "Git URL in the scp-like form",
    edit: (r) => (r.gitops.url = "git@git.home.arpa:castle/fleet.git"),
    code: 1,
    refused: [["gitops.url", "is the scp-like form user@host:path"]],
  },
  {
    name: "Git URL carrying a token",
    edit: (r) => (r.gitops.url = "https://git:glpat-xyz@git.home.arpa/castle/fleet.git"),
    code: 1,
    never: ["glpat-xyz"],
    wording: [
      "castle:gitops.url: the URL carries credentials (a user, password or token before the host); give the URL without them. A Git token is read by ESO from the cluster's Infisical folder: name its secret in castle:gitops.credentials.token",
    ],
  },
  // --- secrets pasted where a name or a URL belongs: refused, never repeated ------------------------
  {
    name: "a GitHub token pasted as the Git token's secret name",
    edit: (r) => (r.gitops.credentials.token = "ghp_R2d2C3poLuke0Leia1Han2Chewie3Yoda4x"),
    code: 1,
    never: ["ghp_R2d2", "R2d2C3po"],
    refused: [["gitops.credentials.token", "looks like a GitHub token, not an Infisical secret name"]],
  },
  {
    name: "a base64 key pasted as an ExternalSecret key name",
    edit: (r) => (r.eso.externalSecrets[0].keys = ["q3Xv9kLm2Pz7Rt5Wy8Bn4Jd6Hf1Gs0Ac+/EuTo3Ni5Q="]),
    code: 1,
    never: ["q3Xv9kLm", "EuTo3Ni5Q"],
    refused: [["eso.externalSecrets[0].keys[0]", "looks like long base64"]],
  },
  {
    name: "a Proxmox token secret (a UUID) pasted as a secret name",
    edit: (r) => (r.infisical.secretNames = { proxmoxTokenSecret: "5f0a7c2e-0c1d-4f7e-9a55-2b0f4c1d9e3a" }),
    code: 1,
    never: ["5f0a7c2e", "2b0f4c1d9e3a"],
    refused: [["infisical.secretNames.proxmoxTokenSecret", "looks like a UUID"]],
  },
  {
    name: "a private key pasted as the SSH identity's secret name",
    edit: (r) => {
      r.gitops.url = "ssh://git@git.home.arpa/castle/fleet.git";
      r.gitops.credentials = {
        sshIdentity: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE\n",
        sshKnownHosts: "K",
      };
    },
    code: 1,
    never: ["b3BlbnNzaC1rZXktdjE"],
    refused: [["gitops.credentials.sshIdentity", "looks like a PEM block"]],
  },
  {
    name: "a client secret (hex) pasted as a namespace",
    edit: (r) => (r.eso.allowedNamespaces = ["apps", "8c1f0e9d2b3a4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d"]),
    code: 1,
    never: ["8c1f0e9d2b3a"],
    refused: [["eso.allowedNamespaces[1]", "looks like a long run of hex digits"]],
  },
  {
    name: "a random token pasted as a Git path",
    edit: (r) => (r.gitops.path = "clusters/qwertzuiopasdfghjklyxcvbnm"),
    code: 1,
    never: ["qwertzuiop"],
    refused: [["gitops.path", "looks like high-entropy text"]],
  },
  {
    name: "a Proxmox endpoint carrying a password without // (https:user:pw@host)",
    edit: (r) => (r.proxmox.endpoint = "https:root:Hunter2pw@pve.home.arpa:8006/"),
    code: 1,
    never: ["Hunter2pw"],
    refused: [["proxmox.endpoint", "the URL carries credentials"]],
  },
  {
    name: "an Infisical site URL carrying a password",
    edit: (r) => (r.infisical.siteUrl = "https://admin:Hunter2pw@infisical.home.arpa"),
    code: 1,
    never: ["Hunter2pw"],
    refused: [["infisical.siteUrl", "the URL carries credentials"]],
  },
  {
    name: "a Git URL carrying a token in its query",
    edit: (r) => (r.gitops.url = "https://git.home.arpa/castle/fleet.git?access_token=hunterpass"),
    code: 1,
    never: ["hunterpass"],
    refused: [["gitops.url", "carries a query"]],
  },
  {
    name: "names that merely mention secrets are fine (FLUX_GIT_TOKEN, GRAFANA_ADMIN_PASSWORD)",
    edit: (r) => {
      r.gitops.credentials.token = "FLUX_GIT_TOKEN";
      r.eso.externalSecrets[0].keys = ["GRAFANA_ADMIN_PASSWORD", "GRAFANA_ADMIN_USER"];
    },
    code: 0,
    summary: [
      "eso chart 2.9.0 in external-secrets, store infisical reading /apps/blue for namespaces apps, monitoring, flux-system",
    ],
  },
  {
    name: "SSH Git URL carrying a password (a login user alone is fine)",
    edit: (r) => (r.gitops.url = "ssh://git:hunter2@git.home.arpa/castle/fleet.git"),
    code: 1,
    never: ["hunter2"],
    // Only the URL: the cross-field Git rules run on a valid castle:gitops.
    refused: [["gitops.url", "the URL carries credentials"]],
  },
  {
    name: "Git URL that is not a URL",
    edit: (r) => (r.gitops.url = "fleet.git"),
    code: 1,
    refused: [["gitops.url", "must be a URL written with its scheme and '//'"]],
  },
  {
    name: "Git ref as a bare branch name",
    edit: (r) => (r.gitops.ref = "main"),
    code: 1,
    refused: [["gitops.ref", "main must be a full Git reference"]],
  },
  {
    name: "Git ref as a commit",
    edit: (r) => (r.gitops.ref = "0123456789abcdef0123456789abcdef01234567"),
    code: 1,
    refused: [["gitops.ref", "0123456789abcdef0123456789abcdef01234567 is a commit"]],
  },
  {
    name: "Git ref that git refuses",
    edit: (r) => (r.gitops.ref = "refs/heads/feature..x"),
    code: 1,
    refused: [["gitops.ref", "refs/heads/feature..x is not a valid Git reference"]],
  },
  {
    name: "Git path absolute",
    edit: (r) => (r.gitops.path = "/clusters/blue"),
    code: 1,
    refused: [["gitops.path", "/clusters/blue must be relative to the repository root"]],
  },
  {
    name: "Git path leaving the repository",
    edit: (r) => (r.gitops.path = "clusters/../../green"),
    code: 1,
    refused: [["gitops.path", "clusters/../../green must stay inside the repository"]],
  },
  {
    name: "sync interval that is not a Go duration",
    edit: (r) => (r.gitops.interval = "1 minute"),
    code: 1,
    refused: [["gitops.interval", "must be a Go duration"]],
  },
  {
    name: "SSH identity without known_hosts",
    edit: (r) => {
      r.gitops.url = "ssh://git@git.home.arpa/castle/fleet.git";
      r.gitops.credentials = { sshIdentity: "FLUX_SSH_IDENTITY" };
    },
    code: 1,
    refused: [["gitops.credentials.sshKnownHosts", "is required with sshIdentity"]],
  },
  {
    name: "SSH URL with a token",
    edit: (r) => (r.gitops.url = "ssh://git@git.home.arpa/castle/fleet.git"),
    code: 1,
    refused: [["gitops.credentials.token", "a token with an ssh:// URL"]],
  },
  {
    name: "SSH keys with an https URL",
    edit: (r) => (r.gitops.credentials = { sshIdentity: "FLUX_SSH_IDENTITY", sshKnownHosts: "FLUX_SSH_KNOWN_HOSTS" }),
    code: 1,
    refused: [["gitops.credentials", "SSH keys with an https:// URL"]],
  },
  {
    name: "SSH URL without credentials",
    edit: (r) => {
      r.gitops.url = "ssh://git@git.home.arpa/castle/fleet.git";
      delete r.gitops.credentials;
    },
    code: 1,
    refused: [["gitops.credentials", "is required for an ssh:// URL"]],
  },
  {
    name: "token and SSH keys together",
    edit: (r) => (r.gitops.credentials.sshIdentity = "FLUX_SSH_IDENTITY"),
    code: 1,
    refused: [
      ["gitops.credentials", "sets both a token and SSH keys"],
      ["gitops.credentials.sshKnownHosts", "is required with sshIdentity"],
      ["gitops.credentials", "SSH keys with an https:// URL"],
    ],
  },
  {
    name: "empty Git credentials",
    edit: (r) => (r.gitops.credentials = {}),
    code: 1,
    refused: [["gitops.credentials", "is empty: set token"]],
  },
  {
    name: "credential key name with a slash",
    edit: (r) => (r.gitops.credentials.token = "flux/token"),
    code: 1,
    refused: [["gitops.credentials.token", "must be an Infisical secret name"]],
  },
  {
    name: "Git credentials while the store does not admit flux-system",
    edit: (r) => (r.eso.allowedNamespaces = ["apps", "monitoring"]),
    code: 1,
    refused: [["eso.allowedNamespaces", "must include flux-system"]],
  },
  {
    name: "Flux version the operator does not carry",
    edit: (r) => (r.gitops.fluxVersion = "2.10.0"),
    code: 1,
    refused: [["gitops.fluxVersion", "2.10.0 is not carried by the Flux Operator 0.58.1"]],
  },
  {
    name: "Flux version as a range",
    edit: (r) => (r.gitops.fluxVersion = "2.x"),
    code: 1,
    refused: [["gitops.fluxVersion", "no range"]],
  },
  {
    name: "operator chart version with a leading v",
    edit: (r) => (r.gitops.operatorChartVersion = "v0.58.1"),
    code: 1,
    refused: [["gitops.operatorChartVersion", "(no leading v)"]],
  },
  {
    name: "unknown Flux controller",
    edit: (r) => (r.gitops.components = ["source-controller", "flagger"]),
    code: 1,
    refused: [["gitops.components[1]", "must be one of source-controller"]],
  },
  {
    name: "misspelt gitops key",
    edit: (r) => (r.gitops.branch = "main"),
    code: 1,
    refused: [["gitops.branch", "unknown key (misspelt?)"]],
  },
  {
    name: "a public repository over https: no credentials, no flux-system in the store",
    edit: (r) => {
      delete r.gitops.credentials;
      r.eso.allowedNamespaces = ["apps", "monitoring"];
    },
    code: 0,
    summary: ["stack blue (Pulumi.blue.yaml): ok"],
  },
  {
    name: "Flux off: no castle:gitops",
    edit: (r) => delete r.gitops,
    code: 0,
    summary: ["stack blue (Pulumi.blue.yaml): ok"],
  },

  // --- castle:talos -----------------------------------------------------------------------------
  {
    name: "Talos version without the leading v",
    edit: (r) => (r.talos.version = "1.13.9"),
    code: 1,
    refused: [["talos.version", "with the leading 'v'"]],
  },
  {
    name: "Talos version older than the v1.13 contract",
    edit: (r) => (r.talos.version = "v1.12.6"),
    code: 1,
    refused: [["talos.version", "must be a Talos v1.13 release"]],
  },
  {
    name: "Talos version newer than the bindings",
    edit: (r) => (r.talos.version = "v1.14.0"),
    code: 1,
    refused: [["talos.version", "must be a Talos v1.13 release"]],
  },
  {
    name: "Talos contract that is not v1.13",
    edit: (r) => (r.talos.contract = "v1.12"),
    code: 1,
    refused: [["talos.contract", "must be the Talos minor version contract v1.13"]],
  },
  {
    name: "Talos version missing",
    edit: (r) => delete r.talos.version,
    code: 1,
    refused: [["talos.version", "is required (expected string)"]],
  },
  {
    name: "install disk that is not a device path",
    edit: (r) => (r.talos.installDisk = "sda"),
    code: 1,
    refused: [["talos.installDisk", "must be a device path"]],
  },
  {
    name: "architecture spelt as uname prints it",
    edit: (r) => (r.talos.architecture = "x86_64"),
    code: 1,
    refused: [["talos.architecture", "must be one of amd64"]],
  },
  {
    name: "extension without its siderolabs/ prefix",
    edit: (r) => (r.talos.extensions = ["siderolabs/iscsi-tools", "qemu-guest-agent"]),
    code: 1,
    refused: [["talos.extensions[1]", "must be an official extension"]],
  },
  {
    name: "misspelt key inside castle:talos",
    edit: (r) => (r.talos.verison = "v1.13.9"),
    code: 1,
    refused: [["talos.verison", "unknown key; did you mean version?"]],
  },

  // --- castle:proxmox ---------------------------------------------------------------------------
  {
    name: "Proxmox endpoint over plain http",
    edit: (r) => (r.proxmox.endpoint = "http://pve.home.arpa:8006/"),
    code: 1,
    refused: [["proxmox.endpoint", "must use https://"]],
  },
  {
    name: "Proxmox endpoint with /api2/json",
    edit: (r) => (r.proxmox.endpoint = "https://pve.home.arpa:8006/api2/json"),
    code: 1,
    refused: [["proxmox.endpoint", "must not include /api2/json"]],
  },
  {
    name: "TLS switch written as yes in quotes",
    edit: (r) => (r.proxmox.insecureSkipTlsVerify = "yes"),
    code: 1,
    refused: [["proxmox.insecureSkipTlsVerify", "expected true or false"]],
  },
  {
    name: "no Proxmox node listed",
    edit: (r) => (r.proxmox.nodes = []),
    code: 1,
    refused: [["proxmox.nodes", "[]: needs at least 1 entry"]],
  },
  {
    name: "Proxmox node name not a DNS label",
    edit: (r) => (r.proxmox.nodes = ["pve1", "PVE_2", "pve3"]),
    code: 1,
    refused: [["proxmox.nodes[1]", "Proxmox node name must be a DNS label"]],
  },
  {
    name: "VLAN tag out of range",
    edit: (r) => (r.proxmox.vlanId = 4095),
    code: 1,
    refused: [["proxmox.vlanId", "4095: must be at most 4094"]],
  },
  {
    name: "empty image datastore",
    edit: (r) => (r.proxmox.imageDatastore = ""),
    code: 1,
    refused: [["proxmox.imageDatastore", "must not be empty: give a Proxmox name"]],
  },
  {
    name: "bridge of blanks",
    edit: (r) => (r.proxmox.bridge = "  "),
    code: 1,
    refused: [["proxmox.bridge", "must be a Proxmox name without spaces"]],
  },
  {
    name: "a Proxmox node listed twice",
    edit: (r) => r.proxmox.nodes.push("pve2"),
    code: 1,
    refused: [["proxmox.nodes[3]", "pve2 is listed twice"]],
  },

  // --- castle:network ---------------------------------------------------------------------------
  {
    name: "CIDR without a prefix",
    edit: (r) => (r.network.cidr = "10.20.0.0"),
    code: 1,
    refused: [["network.cidr", "must be an IPv4 CIDR"]],
  },
  {
    name: "subnet too small for the nodes",
    edit: (r) => (r.network.cidr = "10.20.0.0/30"),
    code: 1,
    wording: [
      "castle:network.cidr: 10.20.0.0/30 is too small: use a prefix of /29 or shorter",
      "castle:network.vip: 10.20.0.10 must be a usable address inside 10.20.0.0/30 (network 10.20.0.0, broadcast 10.20.0.3)",
      ...["controlPlanes[0].ip: 10.20.0.11", "controlPlanes[1].ip: 10.20.0.12", "controlPlanes[2].ip: 10.20.0.13"]
        .concat(["workers[0].ip: 10.20.0.21", "workers[1].ip: 10.20.0.22"])
        .map(
          (p) => `castle:${p} must be a usable address inside 10.20.0.0/30 (network 10.20.0.0, broadcast 10.20.0.3)`,
        ),
    ],
  },
  {
    name: "gateway outside the subnet",
    edit: (r) => (r.network.gateway = "10.21.0.1"),
    code: 1,
    refused: [["network.gateway", "10.21.0.1 must be a usable address inside 10.20.0.0/24"]],
  },
  {
    name: "gateway not an IPv4 address",
    edit: (r) => (r.network.gateway = "10.20.0.256"),
    code: 1,
    refused: [["network.gateway", "must be an IPv4 address"]],
  },
  {
    name: "no DNS resolver",
    edit: (r) => (r.network.dns = []),
    code: 1,
    refused: [["network.dns", "[]: needs at least 1 entry"]],
  },
  {
    name: "DNS resolver with three parts",
    edit: (r) => (r.network.dns = ["10.20.0.1", "1.1.1"]),
    code: 1,
    refused: [["network.dns[1]", "must be an IPv4 address"]],
  },
  {
    name: "VIP outside the subnet",
    edit: (r) => (r.network.vip = "192.168.1.10"),
    code: 1,
    refused: [["network.vip", "192.168.1.10 must be a usable address inside 10.20.0.0/24"]],
  },
  {
    name: "VIP on the network address",
    edit: (r) => (r.network.vip = "10.20.0.0"),
    code: 1,
    refused: [["network.vip", "10.20.0.0 must be a usable address inside 10.20.0.0/24"]],
  },
  {
    name: "VIP equal to the gateway",
    edit: (r) => (r.network.vip = "10.20.0.1"),
    code: 1,
    refused: [["network.vip", "10.20.0.1 is the gateway"]],
  },
  {
    name: "VIP equal to a worker's IP",
    edit: (r) => (r.network.vip = "10.20.0.21"),
    code: 1,
    refused: [["workers[0].ip", "10.20.0.21 is also the VIP"]],
  },
  {
    name: "a /29 that holds every address is just big enough",
    edit: (r) => {
      r.network.cidr = "10.20.0.8/29";
      r.network.gateway = "10.20.0.9";
      r.workers = [{ ...r.workers[0], ip: "10.20.0.14" }];
    },
    code: 0,
    summary: ["endpoint https://10.20.0.10:6443 (VIP), network 10.20.0.8/29, gateway 10.20.0.9"],
  },
  {
    name: "VIP equal to a node IP",
    edit: (r) => (r.network.vip = "10.20.0.12"),
    code: 1,
    wording: [
      "castle:controlPlanes[1].ip: 10.20.0.12 is also the VIP (castle:network.vip); the VIP must be an address no node has",
    ],
  },

  // --- nodes ------------------------------------------------------------------------------------
  {
    name: "node IP outside the subnet",
    edit: (r) => (r.controlPlanes[0].ip = "10.30.0.11"),
    code: 1,
    refused: [["controlPlanes[0].ip", "10.30.0.11 must be a usable address inside 10.20.0.0/24"]],
  },
  {
    name: "node IP on the broadcast address",
    edit: (r) => (r.workers[1].ip = "10.20.0.255"),
    code: 1,
    refused: [["workers[1].ip", "10.20.0.255 must be a usable address inside 10.20.0.0/24"]],
  },
  {
    name: "node IP equal to the gateway",
    edit: (r) => (r.controlPlanes[2].ip = "10.20.0.1"),
    code: 1,
    refused: [["controlPlanes[2].ip", "10.20.0.1 is the gateway address"]],
  },
  {
    name: "node IP not an IPv4 address",
    edit: (r) => (r.controlPlanes[1].ip = "10.20.0.300"),
    code: 1,
    refused: [["controlPlanes[1].ip", "must be an IPv4 address"]],
  },
  {
    name: "two nodes with one IP",
    edit: (r) => (r.workers[1].ip = "10.20.0.21"),
    code: 1,
    refused: [["workers[1].ip", "10.20.0.21 is already used by workers[0]"]],
  },
  {
    name: "two nodes with one hostname",
    edit: (r) => (r.workers[0].hostname = "blue-cp-1"),
    code: 1,
    refused: [["workers[0].hostname", "blue-cp-1 is already used by controlPlanes[0]"]],
  },
  {
    name: "two nodes with one VM ID",
    edit: (r) => (r.controlPlanes[1].vmId = 2011),
    code: 1,
    refused: [["controlPlanes[1].vmId", "2011 is already used by controlPlanes[0]"]],
  },
  {
    name: "two control planes (even)",
    edit: (r) => r.controlPlanes.pop(),
    code: 1,
    refused: [["controlPlanes", "etcd needs an odd number"]],
  },
  {
    name: "no control plane",
    edit: (r) => (r.controlPlanes = []),
    code: 1,
    refused: [["controlPlanes", "[]: needs at least 1 entry"]],
  },
  {
    name: "workers written as a map instead of a list",
    text: (y) =>
      y.replace(/ {2}castle:workers:\n( {4}- .*\n)+/, "  castle:workers:\n    blue-wk-1: { ip: 10.20.0.21 }\n"),
    code: 1,
    refused: [["workers", "expected a list"]],
  },
  {
    name: "an empty list item among the control planes",
    edit: (r) => (r.controlPlanes[1] = null),
    code: 1,
    refused: [["controlPlanes[1]", "is null (an empty value)"]],
  },
  {
    name: "hostname not a DNS label",
    edit: (r) => (r.controlPlanes[0].hostname = "Blue_CP1"),
    code: 1,
    refused: [["controlPlanes[0].hostname", "hostname must be a DNS label"]],
  },
  {
    name: "hostname longer than 63 characters",
    edit: (r) => (r.workers[0].hostname = `blue-${"w".repeat(59)}`),
    code: 1,
    refused: [["workers[0].hostname", "1-63 characters"]],
  },
  {
    name: "misspelt node key",
    edit: (r) => (r.controlPlanes[0].vmid = 2011),
    code: 1,
    refused: [["controlPlanes[0].vmid", "unknown key; did you mean vmId?"]],
  },
  {
    name: "VM ID below Proxmox's range",
    edit: (r) => (r.workers[0].vmId = 99),
    code: 1,
    refused: [["workers[0].vmId", "99: must be at least 100"]],
  },
  {
    name: "VM ID above Proxmox's range",
    edit: (r) => (r.workers[0].vmId = 1_000_000_000),
    code: 1,
    refused: [["workers[0].vmId", "1000000000: must be at most 999999999"]],
  },
  {
    name: "VM ID in quotes",
    edit: (r) => (r.workers[0].vmId = "2021"),
    code: 1,
    refused: [["workers[0].vmId", "expected a number, written without quotes"]],
  },
  {
    name: "VM ID with a fraction",
    edit: (r) => (r.workers[0].vmId = 2021.5),
    code: 1,
    refused: [["workers[0].vmId", "expected a whole number"]],
  },
  {
    name: "no CPU core",
    edit: (r) => (r.workers[0].cores = 0),
    code: 1,
    refused: [["workers[0].cores", "0: must be at least 1"]],
  },
  {
    name: "memory below Talos' minimum",
    edit: (r) => (r.workers[0].memoryMiB = 1024),
    code: 1,
    refused: [["workers[0].memoryMiB", "1024: must be at least 2048"]],
  },
  {
    name: "disk below the floor",
    edit: (r) => (r.workers[0].diskGiB = 8),
    code: 1,
    refused: [["workers[0].diskGiB", "8: must be at least 10"]],
  },
  {
    name: "empty Proxmox node of a node",
    edit: (r) => (r.workers[0].proxmoxNode = ""),
    code: 1,
    refused: [["workers[0].proxmoxNode", "must not be empty"]],
  },
  {
    name: "worker on a Proxmox node that the stack does not list",
    edit: (r) => (r.workers[0].proxmoxNode = "pve9"),
    code: 1,
    refused: [["workers[0].proxmoxNode", "pve9 is not one of castle:proxmox.nodes"]],
  },
  {
    name: "control plane on a Proxmox node that the stack does not list",
    edit: (r) => (r.controlPlanes[2].proxmoxNode = "pve4"),
    code: 1,
    refused: [["controlPlanes[2].proxmoxNode", "pve4 is not one of castle:proxmox.nodes"]],
  },

  // --- castle:infisical -------------------------------------------------------------------------
  {
    name: "Infisical over plain http to a remote host",
    edit: (r) => (r.infisical.siteUrl = "http://infisical.example.org"),
    code: 1,
    refused: [["infisical.siteUrl", "must use https"]],
  },
  {
    name: "Infisical site without a scheme",
    edit: (r) => (r.infisical.siteUrl = "eu.infisical.com"),
    code: 1,
    refused: [["infisical.siteUrl", "must be a URL written with its scheme"]],
  },
  {
    name: "Infisical project id missing",
    edit: (r) => delete r.infisical.projectId,
    code: 1,
    refused: [["infisical.projectId", "is required (expected string)"]],
  },
  {
    name: "Infisical project given by its slug, not its id",
    edit: (r) => (r.infisical.projectId = "castle-prod"),
    code: 1,
    refused: [["infisical.projectId", "must be the project's id, a UUID"]],
  },
  {
    name: "a Universal Auth client secret pasted as the project id",
    edit: (r) => (r.infisical.projectId = "8c1f0e9d2b3a4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"),
    code: 1,
    never: ["8c1f0e9d2b3a"],
    refused: [["infisical.projectId", "looks like a long run of hex digits"]],
  },
  {
    name: "Infisical project slug with a space",
    edit: (r) => (r.infisical.projectSlug = "Castle Prod"),
    code: 1,
    refused: [["infisical.projectSlug", "projectSlug must be a DNS label"]],
  },
  {
    name: "Infisical environment given by its display name",
    edit: (r) => (r.infisical.environment = "Production"),
    code: 1,
    refused: [["infisical.environment", "must be an environment slug"]],
  },
  {
    name: "the cluster's folder is the castle's folder",
    edit: (r) => (r.eso.secretsPath = "/castle/blue"),
    code: 1,
    refused: [["eso.secretsPath", "/castle/blue is the castle's own folder"]],
  },
  {
    name: "the cluster's folder contains the castle's folder",
    edit: (r) => (r.eso.secretsPath = "/castle"),
    code: 1,
    wording: [
      "castle:eso.secretsPath: /castle contains the castle's own folder (castle:infisical.secretPath /castle/blue), which holds the secretbox key, the Proxmox token and ESO's own credentials. The cluster's identity must not be able to read it: give the cluster a folder of its own outside it, e.g. /apps/<color>, and allow the cluster's identity that folder only",
      `castle:eso.secretsPath: /castle contains the castle folder of stack "green" (castle:infisical.secretPath /castle/green in Pulumi.green.yaml, same project and environment), which holds that castle's secretbox key and Proxmox token. Give this cluster a folder of its own apart from every castle folder, e.g. /apps/<color>`,
    ],
  },
  {
    name: "the cluster's folder is the root, which contains every folder",
    edit: (r) => (r.eso.secretsPath = "/"),
    code: 1,
    refused: [
      ["eso.secretsPath", "/ contains the castle's own folder"],
      ["eso.secretsPath", '/ contains the castle folder of stack "green"'],
    ],
  },
  {
    name: "the cluster's folder lies inside the castle's own folder",
    edit: (r) => (r.eso.secretsPath = "/castle/blue/apps"),
    code: 1,
    refused: [["eso.secretsPath", "/castle/blue/apps lies inside the castle's own folder"]],
  },
  {
    name: "the cluster's folder is the other color's castle folder",
    edit: (r) => (r.eso.secretsPath = "/castle/green"),
    code: 1,
    refused: [["eso.secretsPath", '/castle/green is the castle folder of stack "green"']],
  },
  {
    name: "the cluster's folder lies inside the other color's castle folder",
    edit: (r) => (r.eso.secretsPath = "/castle/green/apps"),
    code: 1,
    refused: [["eso.secretsPath", '/castle/green/apps lies inside the castle folder of stack "green"']],
  },
  {
    name: "the other color's castle folder in another environment is no clash",
    edit: (r) => (r.eso.secretsPath = "/castle/green"),
    green: GREEN_TEXT.replace("environment: prod", "environment: staging"),
    code: 0,
    summary: [
      "eso chart 2.9.0 in external-secrets, store infisical reading /castle/green for namespaces apps, monitoring, flux-system",
    ],
  },
  {
    name: "the other color's castle folder in another project is no clash",
    edit: (r) => (r.eso.secretsPath = "/castle/green"),
    green: GREEN_TEXT.replace("4f6c2a8e-7b1d-4c3e-9a5f-2d8b6e1c0a97", "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"),
    code: 0,
    summary: [
      "eso chart 2.9.0 in external-secrets, store infisical reading /castle/green for namespaces apps, monitoring, flux-system",
    ],
  },
  {
    name: "the cluster's folder with a '..' step (folders are compared as text)",
    edit: (r) => (r.eso.secretsPath = "/apps/../castle/green"),
    code: 1,
    refused: [["eso.secretsPath", "without '.' or '..' steps"]],
  },
  {
    name: "the castle's folder missing (it is required: the root would hold every cluster folder)",
    edit: (r) => delete r.infisical.secretPath,
    code: 1,
    refused: [["infisical.secretPath", "is required (expected string)"]],
  },
  {
    name: "the cluster's folder missing",
    edit: (r) => delete r.eso.secretsPath,
    code: 1,
    refused: [["eso.secretsPath", "is required (expected string)"]],
  },
  {
    name: "the cluster's folder with a trailing slash",
    edit: (r) => (r.eso.secretsPath = "/apps/blue/"),
    code: 1,
    refused: [["eso.secretsPath", "without a trailing slash"]],
  },
  {
    name: "the cluster's folder beside the castle's, sharing a name prefix, is fine",
    edit: (r) => (r.eso.secretsPath = "/castle/blue-apps"),
    code: 0,
    summary: [
      "eso chart 2.9.0 in external-secrets, store infisical reading /castle/blue-apps for namespaces apps, monitoring, flux-system",
    ],
  },
  {
    name: "Infisical folder with a trailing slash",
    edit: (r) => (r.infisical.secretPath = "/castle/blue/"),
    code: 1,
    refused: [["infisical.secretPath", "without a trailing slash"]],
  },
  {
    name: "Infisical folder relative",
    edit: (r) => (r.infisical.secretPath = "castle/blue"),
    code: 1,
    refused: [["infisical.secretPath", "must be an absolute folder path"]],
  },
  {
    name: "misspelt secret name key",
    edit: (r) => (r.infisical.secretNames = { secretBoxKey: "TALOS_SECRETBOX_KEY" }),
    code: 1,
    refused: [["infisical.secretNames.secretBoxKey", "unknown key; did you mean secretboxKey?"]],
  },
  {
    name: "empty secret name",
    edit: (r) => (r.infisical.secretNames = { proxmoxTokenId: "" }),
    code: 1,
    refused: [["infisical.secretNames.proxmoxTokenId", "must not be empty"]],
  },
  {
    name: "Infisical deadline of zero",
    edit: (r) => (r.infisical.timeoutSeconds = 0),
    code: 1,
    refused: [["infisical.timeoutSeconds", "0: must be more than 0"]],
  },
  {
    name: "Infisical deadline of an hour",
    edit: (r) => (r.infisical.timeoutSeconds = 3600),
    code: 1,
    refused: [["infisical.timeoutSeconds", "3600: must be at most 600"]],
  },

  // --- castle:eso and castle:guards -------------------------------------------------------------
  {
    name: "ESO chart version 'latest'",
    edit: (r) => (r.eso.chartVersion = "latest"),
    code: 1,
    refused: [["eso.chartVersion", "must be a chart version"]],
  },
  {
    name: "ESO chart version with a leading v",
    edit: (r) => (r.eso.chartVersion = "v2.9.0"),
    code: 1,
    refused: [["eso.chartVersion", "such as 2.9.0"]],
  },
  {
    name: "ESO namespace not a DNS label",
    edit: (r) => (r.eso.namespace = "External_Secrets"),
    code: 1,
    refused: [["eso.namespace", "namespace must be a DNS label"]],
  },
  {
    name: "ESO store name not a DNS label",
    edit: (r) => (r.eso.storeName = "Infisical"),
    code: 1,
    refused: [["eso.storeName", "storeName must be a DNS label"]],
  },
  {
    name: "no namespace allowed to use the store",
    edit: (r) => (r.eso.allowedNamespaces = []),
    code: 1,
    refused: [["eso.allowedNamespaces", "[]: needs at least 1 entry"]],
  },
  {
    name: "ExternalSecret without keys",
    edit: (r) => (r.eso.externalSecrets[0].keys = []),
    code: 1,
    refused: [["eso.externalSecrets[0].keys", "[]: needs at least 1 entry"]],
  },
  {
    name: "two ExternalSecrets with the same namespace and name",
    edit: (r) => r.eso.externalSecrets.push({ ...r.eso.externalSecrets[0], targetSecret: "grafana-other" }),
    code: 1,
    wording: [
      "castle:eso.externalSecrets[1].name: monitoring/grafana-admin is also castle:eso.externalSecrets[0]: each ExternalSecret needs its own name in its namespace",
    ],
  },
  {
    name: "two ExternalSecrets writing the same Secret",
    edit: (r) => r.eso.externalSecrets.push({ ...r.eso.externalSecrets[0], name: "grafana-admin-copy" }),
    code: 1,
    refused: [
      [
        "eso.externalSecrets[1].targetSecret",
        "Secret monitoring/grafana-admin is also written by castle:eso.externalSecrets[0]",
      ],
    ],
  },
  {
    name: "ExternalSecret key with a space",
    edit: (r) => (r.eso.externalSecrets[0].keys = ["GRAFANA ADMIN"]),
    code: 1,
    refused: [["eso.externalSecrets[0].keys[0]", "must be an Infisical secret name"]],
  },
  {
    name: "ExternalSecret refresh interval in days",
    edit: (r) => (r.eso.externalSecrets[0].refreshInterval = "1d"),
    code: 1,
    refused: [["eso.externalSecrets[0].refreshInterval", "must be a duration in seconds"]],
  },
  {
    name: "ExternalSecret target not a DNS label",
    edit: (r) => (r.eso.externalSecrets[0].targetSecret = "Grafana-Admin"),
    code: 1,
    refused: [["eso.externalSecrets[0].targetSecret", "targetSecret must be a DNS label"]],
  },
  {
    name: "misspelt guard",
    edit: (r) => (r.guards = { keepOneColourUp: true }),
    code: 1,
    refused: [["guards.keepOneColourUp", "unknown key; did you mean keepOneColorUp?"]],
  },
  {
    name: "guard written as a string",
    edit: (r) => (r.guards = { keepOneColorUp: "yes" }),
    code: 1,
    refused: [["guards.keepOneColorUp", "expected true or false"]],
  },

  // --- blue against green -----------------------------------------------------------------------
  {
    name: "node IP that green's worker has",
    edit: (r) => (r.workers[1].ip = "10.20.0.121"),
    code: 1,
    wording: [
      `castle:workers[1].ip: 10.20.0.121 is also used by stack "green" (castle:workers[0].ip in Pulumi.green.yaml); ${CROSS}`,
    ],
  },
  {
    name: "node IP that is green's VIP",
    edit: (r) => (r.controlPlanes[0].ip = "10.20.0.110"),
    code: 1,
    refused: [["controlPlanes[0].ip", '10.20.0.110 is also used by stack "green"']],
  },
  {
    name: "VIP that is green's VIP",
    edit: (r) => (r.network.vip = "10.20.0.110"),
    code: 1,
    refused: [["network.vip", '10.20.0.110 is also used by stack "green"']],
  },
  {
    name: "VIP that is a green node IP",
    edit: (r) => (r.network.vip = "10.20.0.111"),
    code: 1,
    refused: [["network.vip", '10.20.0.111 is also used by stack "green"']],
  },
  {
    name: "VM ID that green uses",
    edit: (r) => (r.workers[0].vmId = 2122),
    code: 1,
    refused: [["workers[0].vmId", '2122 is also used by stack "green"']],
  },
  {
    name: "hostname that green uses",
    edit: (r) => (r.controlPlanes[2].hostname = "green-cp-3"),
    code: 1,
    refused: [["controlPlanes[2].hostname", 'green-cp-3 is also used by stack "green"']],
  },
  {
    name: "cluster name that green uses",
    edit: (r) => (r.clusterName = "green"),
    code: 1,
    refused: [["clusterName", 'green is also used by stack "green"']],
  },

  // --- many faults at once: every one is listed ---------------------------------------------------
  {
    name: "one fault of each kind, all listed",
    edit: (r) => {
      r.talos.version = "v1.12.6"; // shape
      r.talos.verison = "v1.13.9"; // unknown key
      delete r.infisical.projectSlug; // missing key
      r.network.vip = "10.20.0.12"; // VIP on a node
      r.controlPlanes.pop(); // even count
      r.workers[0].proxmoxNode = "pve9"; // unknown Proxmox node
      r.workers[1].vmId = 2021; // duplicate VM ID
      r.workers[1].hostname = "green-wk-2"; // green's hostname
    },
    code: 1,
    wording: [
      "castle:talos.version: \"v1.12.6\": must be a Talos v1.13 release such as v1.13.9 (with the leading 'v')",
      "castle:talos.verison: unknown key; did you mean version?",
      "castle:infisical.projectSlug: is required (expected string)",
      "castle:controlPlanes: 2 control planes: etcd needs an odd number (1, 3, 5...) to keep quorum",
      "castle:controlPlanes[1].ip: 10.20.0.12 is also the VIP (castle:network.vip); the VIP must be an address no node has",
      "castle:workers[0].proxmoxNode: pve9 is not one of castle:proxmox.nodes (pve1, pve2, pve3)",
      "castle:workers[1].vmId: 2021 is already used by workers[0]; each node needs its own vmId",
      `castle:workers[1].hostname: green-wk-2 is also used by stack "green" (castle:workers[1].hostname in Pulumi.green.yaml); ${CROSS}`,
    ],
  },

  // --- unusual but valid ----------------------------------------------------------------------------
  {
    name: "a 1+0 cluster: one control plane, no workers",
    edit: (r) => {
      r.controlPlanes = r.controlPlanes.slice(0, 1);
      delete r.workers;
    },
    code: 0,
    summary: [
      "stack blue (Pulumi.blue.yaml): ok",
      "hostname   role           ip          vm id  proxmox node  size",
      "blue-cp-1  control plane  10.20.0.11  2011   pve1          2 cores, 4096 MiB, 32 GiB",
    ],
  },
  {
    name: "the smallest subnet, /29, with a 1+0 cluster",
    edit: (r) => {
      r.network = { cidr: "10.20.0.0/29", gateway: "10.20.0.1", dns: ["10.20.0.1"], vip: "10.20.0.2" };
      r.controlPlanes = [{ ...r.controlPlanes[0], ip: "10.20.0.6" }];
      r.workers = [];
    },
    code: 0,
    summary: ["endpoint https://10.20.0.2:6443 (VIP), network 10.20.0.0/29, gateway 10.20.0.1"],
  },
  {
    name: "Infisical over plain http on 127.0.0.1",
    edit: (r) => (r.infisical.siteUrl = "http://127.0.0.1:8080"),
    code: 0,
    summary: ["infisical http://127.0.0.1:8080 project castle-prod env prod path /castle/blue"],
  },
  {
    name: "Infisical over plain http on [::1]",
    edit: (r) => (r.infisical.siteUrl = "http://[::1]:8080"),
    code: 0,
    summary: ["infisical http://[::1]:8080 project castle-prod env prod path /castle/blue"],
  },
  {
    name: "a shared image datastore",
    edit: (r) => Object.assign(r.proxmox, { imageDatastore: "cephfs", imageDatastoreShared: true }),
    code: 0,
    summary: ["stack blue (Pulumi.blue.yaml): ok"],
  },
  {
    name: "only the required keys: every default applies",
    edit: (r) => {
      delete r.talos.contract;
      delete r.talos.installDisk;
      for (const key of ["imageDatastore", "imageDatastoreShared", "vmDatastore", "bridge", "vlanId"]) {
        delete r.proxmox[key];
      }
      for (const node of [...r.controlPlanes, ...r.workers]) {
        delete node.cores;
        delete node.memoryMiB;
        delete node.diskGiB;
      }
      for (const key of ["siteUrl", "timeoutSeconds"]) delete r.infisical[key];
      r.eso = { allowedNamespaces: ["apps"], secretsPath: "/apps/blue" };
      r.gitops = { url: "https://git.home.arpa/castle/fleet.git" };
    },
    code: 0,
    summary: [
      "cluster blue: Talos v1.13.9 (contract v1.13), Kubernetes 1.36.3",
      "blue-wk-2  worker         10.20.0.22  2022   pve2          2 cores, 4096 MiB, 32 GiB",
      "infisical https://eu.infisical.com project castle-prod env prod path /castle/blue",
      "eso chart 2.9.0 in external-secrets, store infisical reading /apps/blue for namespaces apps",
    ],
  },
  {
    name: "keys of other namespaces are left alone",
    text: (y) => y.replace("config:\n", "config:\n  proxmoxve:insecure: true\n  pulumi:tags: { owner: ops }\n"),
    code: 0,
    summary: ["stack blue (Pulumi.blue.yaml): ok"],
  },
  {
    name: "a broken green stack does not fail blue (green's check reports it)",
    green: "config: [unclosed\n",
    code: 0,
    summary: ["stack blue (Pulumi.blue.yaml): ok"],
  },
];

describe("castle check blue: the table of bad stack configs", () => {
  for (const row of rows) {
    it(`${row.name} -> exit ${row.code}`, async () => {
      let blue = BLUE_TEXT;
      if (row.edit) {
        const raw = blueRaw();
        row.edit(raw);
        blue = stackText(raw);
      }
      if (row.text) blue = row.text(blue);
      const dir = project({ blue, green: row.green });
      const { code, text } = await checkBlue(dir);
      // The program reads the same file as the Pulumi CLI hands it over, and must decide alike. A file
      // that is not YAML never reaches it: the CLI refuses it first.
      if (!text.includes("not valid YAML")) {
        const { byCheck, byProgram } = readBothWays(dir, "blue", blue);
        assert.deepEqual(byProgram, byCheck, "the program reads this stack otherwise than castle check");
        assert.equal("problems" in byCheck, row.code === 1);
      }
      for (const value of row.never ?? []) assert.ok(!text.includes(value), `the output holds ${value}`);
      if (row.code === 1) {
        if (row.wording) assert.equal(text, refusal(row.wording));
        else {
          const refused = row.refused ?? [];
          assert.equal(text.split("\n")[0], refusal(refused.map(() => "")).split("\n")[0]);
          assert.deepEqual(asRefused(text, refused), refused);
        }
        assert.equal(code, 1);
      } else {
        assert.equal(code, 0, text);
        const lines = text.split("\n");
        for (const line of row.summary ?? []) assert.ok(lines.includes(line), `missing line ${JSON.stringify(line)}`);
      }
    });
  }

  it("every refusing row names its problems one way, every passing row a summary line", () => {
    const named = (r: Row) =>
      r.code === 1
        ? (r.wording ?? []).length + (r.refused ?? []).length > 0 && !(r.wording && r.refused)
        : (r.summary ?? []).length > 0 && !r.wording && !r.refused;
    assert.deepEqual(
      rows.filter((r) => !named(r)).map((r) => r.name),
      [],
    );
  });
});

describe("castle check never throws on a malformed stack file", () => {
  const documents: { name: string; text: string; problems: number }[] = [
    { name: "config is a list", text: "config: [1, 2]\n", problems: 8 },
    { name: "a scalar document", text: "42\n", problems: 8 },
    {
      name: "sections of the wrong type",
      text: stackText({ ...blueRaw(), talos: "v1.13.9", proxmox: 7 }),
      problems: 2,
    },
    {
      name: "nodes that are numbers, lists and strings",
      text: stackText({ ...blueRaw(), controlPlanes: [1, [2], "cp"], workers: "none" }),
      problems: 4,
    },
    {
      name: "network values of the wrong types",
      text: stackText({ ...blueRaw(), network: { cidr: 24, gateway: [], dns: "1.1.1.1", vip: {} } }),
      problems: 4,
    },
  ];
  for (const { name, text, problems } of documents) {
    it(`${name}: exit 1 with ${problems} problems`, async () => {
      const result = await checkBlue(project({ blue: text }));
      assert.equal(result.code, 1);
      assert.equal(result.text.split("\n")[0], `stack "blue" (Pulumi.blue.yaml) has ${problems} problems:`);
      assert.equal(result.text.split("\n").filter((l) => l.startsWith("  - castle:")).length, problems);
    });
  }
});

/**
 * "Image only on one Proxmox node" (the Talos image downloaded on the first Proxmox node while the VMs live
 * on several) is prevented by construction in planImages: tests/proxmox-plan.test.ts proves the plan
 * itself (local storage: one download on every hosting node; shared: one download, every node importing
 * from it) and tests/proxmox-nodes.test.ts the resources built from it. What is proven here is the link:
 * the stacks `castle check` accepts give every VM a copy on storage its own Proxmox node can see.
 */
describe("Talos image placement of the stacks castle check accepts", () => {
  const plan = (edit: (raw: RawStack) => void) => {
    const raw = blueRaw();
    edit(raw);
    const checked = check(project({ blue: stackText(raw) }), "blue", () => {});
    assert.ok(checked.config, "the stack passes castle check");
    const vms = nodesWithPaths(checked.config).map(({ node }) => node);
    const proxmox = checked.config.proxmox;
    return {
      vms,
      ...planImages({
        proxmoxNodes: proxmox.nodes,
        vmNodes: vms.map((vm) => vm.proxmoxNode),
        shared: proxmox.imageDatastoreShared,
      }),
    };
  };

  it("blue as written (local storage by default): a download on each of pve1, pve2, pve3, each VM on its own node's copy", () => {
    const { vms, downloadNodes, sourceFor } = plan(() => {});
    assert.deepEqual(downloadNodes, ["pve1", "pve2", "pve3"]);
    assert.deepEqual(
      vms.map((vm) => `${vm.hostname}<-${sourceFor[vm.proxmoxNode]}`),
      ["blue-cp-1<-pve1", "blue-cp-2<-pve2", "blue-cp-3<-pve3", "blue-wk-1<-pve1", "blue-wk-2<-pve2"],
    );
  });

  it("blue on a shared datastore: one download, which every VM's node sees", () => {
    const { vms, downloadNodes, sourceFor } = plan((r) =>
      Object.assign(r.proxmox, { imageDatastore: "cephfs", imageDatastoreShared: true }),
    );
    assert.deepEqual(downloadNodes, ["pve1"]);
    assert.deepEqual(new Set(vms.map((vm) => sourceFor[vm.proxmoxNode])), new Set(["pve1"]));
  });
});
