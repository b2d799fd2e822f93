/**
 * The castle's stack configuration: one zod schema for every key under the `castle:` namespace of
 * `Pulumi.<stack>.yaml`. The Pulumi program (through `pulumi.Config`) and the `castle` command (which
 * reads the YAML file itself) both parse with this schema, so they can never disagree.
 *
 * Each top-level field is one stack config key: `castle:clusterName`, `castle:talos`, ...
 * Objects are strict: a key the schema does not know is an error, so typos are caught.
 */
import { z } from "zod";
import { contractOf, TALOS_CONTRACT, TALOS_RELEASE } from "../lib/talos-version";
import {
  infisicalFolder,
  infisicalKeyName,
  kubernetesName,
  plainWord,
  url,
  urlProblem,
  valueKind,
} from "./value-kinds";

/** Default Infisical instance: the EU cloud. Self-hosted and US users set `castle:infisical.siteUrl`. */
const DEFAULT_INFISICAL_SITE_URL = "https://eu.infisical.com";
/** Default External Secrets Operator chart version (the release that supports Kubernetes 1.36). */
const DEFAULT_ESO_CHART_VERSION = "2.9.0";
/**
 * Default time, in seconds, `pulumi up` waits for the ClusterSecretStore and each ExternalSecret to report
 * `Ready=True` (ESO validates the store by logging in to Infisical and listing the folder; an ExternalSecret
 * is Ready once its Secret is written). Five minutes covers ESO's start-up and retries on a fresh cluster.
 */
export const DEFAULT_ESO_READY_TIMEOUT_SECONDS = 300;
/**
 * Default time, in seconds, `pulumi up` waits for the Talos health check (every node booted, etcd and the
 * Kubernetes components healthy, every node Ready). The talos provider's own default is 10 minutes; the castle
 * writes it out so the bound is visible and configurable.
 */
export const DEFAULT_TALOS_HEALTH_TIMEOUT_SECONDS = 600;

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

// Every text field is declared with its kind (config/value-kinds.ts): a value that looks like a secret
// is refused there, without being quoted, whatever the field.
const dnsLabel = kubernetesName;
const folderPath = infisicalFolder;

/** A Proxmox identifier (storage, bridge, CPU type): one word, no spaces. */
const proxmoxName = (example: string) =>
  plainWord("a Proxmox name", /^\S+$/, `must be a Proxmox name without spaces, such as ${example}`);

const ipv4 = z.ipv4({ message: "must be an IPv4 address such as 10.0.0.10" });

/** A Talos release, `v1.13.x`: the castle's bindings and patches are written for Talos v1.13. */
const talosVersion = z.string().regex(TALOS_RELEASE, {
  message: `must be a Talos ${TALOS_CONTRACT} release such as ${TALOS_CONTRACT}.9 (with the leading 'v')`,
});

/**
 * An Infisical instance root: https, or http on a loopback address. No path: the SDK and ESO append
 * /api/v1/... themselves, so ".../api" ends up as /api/api/v1/... (a 404 at login).
 */
export const siteUrl = url({
  what: "the Infisical instance root",
  schemes: ["https"],
  loopbackHttp: true,
  path: false,
  example: "https://eu.infisical.com",
});

/** The Proxmox VE API root (without `/api2/json`). */
export const proxmoxEndpoint = valueKind("the Proxmox API endpoint", (value) => {
  const problem = urlProblem(value, {
    what: "the Proxmox API endpoint",
    schemes: ["https"],
    example: "https://pve.example.internal:8006/",
  });
  if (problem) return problem;
  return value.includes("/api2/json") ? "must not include /api2/json: give the server root" : undefined;
});

export const NodeSchema = z.strictObject({
  /** Hostname of the Talos node and name of its Proxmox VM (a DNS label, unique in the stack). */
  hostname: dnsLabel("hostname"),
  /** Static IPv4 address, inside `castle:network.cidr`. */
  ip: ipv4,
  /** Proxmox VM ID (100..999999999), unique across the Proxmox cluster and across stacks. */
  vmId: z.int().min(100).max(999_999_999),
  /** Name of the Proxmox node that hosts this VM; must be listed in `castle:proxmox.nodes`. */
  proxmoxNode: valueKind("a Proxmox node name"),
  /** Virtual CPU cores. Default 2 (the Talos minimum for a control plane). */
  cores: z.int().min(1).max(512).default(2),
  /** Memory in MiB, dedicated (no ballooning: Talos does not support memory hotplug). Default 4096. */
  memoryMiB: z.int().min(2048).max(4_194_304).default(4096),
  /** Size of the system disk in GiB. Default 32. */
  diskGiB: z.int().min(10).max(65_536).default(32),
});
export type CastleNode = z.infer<typeof NodeSchema>;

const TalosSchema = z
  .strictObject({
    /** Talos release installed on every node, e.g. `v1.13.9`. */
    version: talosVersion,
    /**
     * The machine-secrets version contract (`talosVersion` of `talos.machine.Secrets`), e.g. `v1.13`.
     * It must not change on a live cluster: changing it means recreating the cluster.
     * Default: the major.minor of `version`.
     */
    contract: z
      .string()
      .refine((contract) => contract === TALOS_CONTRACT, {
        message: `must be the Talos minor version contract ${TALOS_CONTRACT}`,
      })
      .optional(),
    /** Install disk as the VM presents it (virtio-scsi). Default `/dev/sda`. */
    installDisk: z
      .string()
      .regex(/^\/dev\/[a-z0-9/]+$/, { message: "must be a device path such as /dev/sda" })
      .default("/dev/sda"),
    /** CPU architecture of the nodes and of the Talos image. Default `amd64`. */
    architecture: z.enum(["amd64", "arm64"]).default("amd64"),
    /** Official system extensions baked into the Image Factory schematic. qemu-guest-agent is always included. */
    extensions: z
      .array(
        z.string().regex(/^siderolabs\/[a-z0-9-]+$/, {
          message: "must be an official extension such as siderolabs/iscsi-tools",
        }),
      )
      .default([]),
    /**
     * How long `pulumi up` waits for the cluster health check, in seconds (never run by `pulumi preview`).
     * Default 600.
     */
    healthTimeoutSeconds: z
      .int({ message: "must be a whole number of seconds, from 60 to 3600" })
      .min(60, { message: "must be a whole number of seconds, from 60 to 3600" })
      .max(3600, { message: "must be a whole number of seconds, from 60 to 3600" })
      .default(DEFAULT_TALOS_HEALTH_TIMEOUT_SECONDS),
    /**
     * Whether the control planes also run workloads (Talos `cluster.allowSchedulingOnControlPlanes`; Talos
     * taints them otherwise). Default: true when the stack lists no workers (the ESO and Flux pods need a
     * node), else false. `false` with no workers is refused.
     */
    allowSchedulingOnControlPlanes: z.boolean().optional(),
  })
  .transform((talos) => ({ ...talos, contract: talos.contract ?? contractOf(talos.version) }));

export const ProxmoxSchema = z.strictObject({
  /** Proxmox VE API endpoint, e.g. `https://pve.example.internal:8006/` (without `/api2/json`). */
  endpoint: proxmoxEndpoint,
  /**
   * Skip TLS certificate verification of the Proxmox API. Default false (verification on).
   * Turning it on prints a warning on every run.
   */
  insecureSkipTlsVerify: z.boolean().default(false),
  /** The Proxmox nodes the castle may place VMs on. Every node's `proxmoxNode` must be one of these. */
  nodes: z.array(dnsLabel("Proxmox node name")).min(1),
  /** Datastore that receives the Talos disk image; it must allow the `import` content type. Default `local`. */
  imageDatastore: proxmoxName("local").default("local"),
  /** Whether `imageDatastore` is shared by all Proxmox nodes (then the image is downloaded once). Default false. */
  imageDatastoreShared: z.boolean().default(false),
  /** Datastore for the VM disks (system disk, EFI vars, cloud-init drive). Default `local-lvm`. */
  vmDatastore: proxmoxName("local-lvm").default("local-lvm"),
  /** Linux bridge the VMs attach to. Default `vmbr0`. */
  bridge: proxmoxName("vmbr0").default("vmbr0"),
  /** VLAN tag on the VM network interface. Default: none (untagged). */
  vlanId: z.int().min(1).max(4094).optional(),
  /** Proxmox CPU type; Talos needs x86-64-v2 or better. Default `host`. */
  cpuType: proxmoxName("host").default("host"),
});

export const NetworkSchema = z.strictObject({
  /** The node subnet in CIDR form, e.g. `10.10.20.0/24`. */
  cidr: z.cidrv4({ message: "must be an IPv4 CIDR such as 10.10.20.0/24" }),
  /** Default gateway, inside the CIDR. */
  gateway: ipv4,
  /** DNS resolvers (at least one). */
  dns: z.array(ipv4).min(1),
  /** Shared virtual IP of the Kubernetes API (Talos Layer2 VIP): inside the CIDR, not a node address. */
  vip: ipv4,
});

export const SecretNamesSchema = z.strictObject({
  /** 32-byte etcd secretbox key, standard base64. Default `TALOS_SECRETBOX_KEY`. */
  secretboxKey: infisicalKeyName("TALOS_SECRETBOX_KEY").default("TALOS_SECRETBOX_KEY"),
  /** Proxmox API token id, `user@realm!name`. Default `PROXMOX_TOKEN_ID`. */
  proxmoxTokenId: infisicalKeyName("PROXMOX_TOKEN_ID").default("PROXMOX_TOKEN_ID"),
  /** Proxmox API token secret (a UUID). Default `PROXMOX_TOKEN_SECRET`. */
  proxmoxTokenSecret: infisicalKeyName("PROXMOX_TOKEN_SECRET").default("PROXMOX_TOKEN_SECRET"),
  /** Client id of the cluster's own read-only machine identity, used by ESO. Default `ESO_CLIENT_ID`. */
  esoClientId: infisicalKeyName("ESO_CLIENT_ID").default("ESO_CLIENT_ID"),
  /** Client secret of that identity. Default `ESO_CLIENT_SECRET`. */
  esoClientSecret: infisicalKeyName("ESO_CLIENT_SECRET").default("ESO_CLIENT_SECRET"),
  /**
   * Client id of the Git credential's own read-only machine identity (it may read `castle:gitops.secretsPath`
   * only), used by the `flux-system` SecretStore. Read only when `castle:gitops.credentials` is set.
   * Default `GITOPS_CLIENT_ID`.
   */
  gitopsClientId: infisicalKeyName("GITOPS_CLIENT_ID").default("GITOPS_CLIENT_ID"),
  /** Client secret of that identity. Default `GITOPS_CLIENT_SECRET`. */
  gitopsClientSecret: infisicalKeyName("GITOPS_CLIENT_SECRET").default("GITOPS_CLIENT_SECRET"),
});
export type SecretNames = z.infer<typeof SecretNamesSchema>;

/**
 * The names the program reads its secrets by, for a stack's `castle:infisical.secretNames` as written
 * (the defaults above for what is missing or unreadable): the one place messages take them from.
 */
export function secretNamesOf(written: unknown): SecretNames {
  const names = SecretNamesSchema.safeParse(written ?? {});
  if (names.success) return names.data;
  const defaults = SecretNamesSchema.parse({});
  const given = (written && typeof written === "object" ? written : {}) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(defaults).map(([role, name]) => [
      role,
      typeof given[role] === "string" && given[role] ? given[role] : name,
    ]),
  ) as SecretNames;
}

export const InfisicalSchema = z.strictObject({
  /** Infisical instance root, without `/api`. Default `https://eu.infisical.com`. `INFISICAL_SITE_URL` overrides it. */
  siteUrl: siteUrl.default(DEFAULT_INFISICAL_SITE_URL),
  /** Project id (UUID): what the SDK and the API take. */
  projectId: valueKind(
    "an Infisical project id",
    (value) =>
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)
        ? undefined
        : "must be the project's id, a UUID such as 4f6c2a8e-7b1d-4c3e-9a5f-2d8b6e1c0a97 (Project Settings; not its slug)",
    // The id is a UUID, which the secret test would take for a token secret: here it is what belongs.
    { notSecret: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i },
  ),
  /** Project slug: what ESO's ClusterSecretStore takes. */
  projectSlug: dnsLabel("projectSlug"),
  /** Environment slug, e.g. `prod`. */
  environment: plainWord("an environment slug", /^[a-z0-9][a-z0-9_-]*$/, "must be an environment slug such as prod"),
  /**
   * Folder holding the castle's own secrets (secretbox key, Proxmox token, ESO credentials), absolute,
   * e.g. `/castle/blue`. Required: every cluster folder (`castle:eso.secretsPath` of any stack) lies inside
   * the root, and must lie apart from every castle folder. Only the program's identity may read it.
   */
  secretPath: folderPath("/castle/blue"),
  /** Names of the secrets the castle reads. */
  secretNames: SecretNamesSchema.prefault({}),
  /** Overall deadline for logging in and fetching every secret, in seconds. Default 30. */
  timeoutSeconds: z.number().positive().max(600).default(30),
});

const ExternalSecretSchema = z.strictObject({
  /** Name of the ExternalSecret object. */
  name: dnsLabel("name"),
  /** Namespace of the ExternalSecret; must be allowed to use the store. */
  namespace: dnsLabel("namespace"),
  /** Name of the Kubernetes Secret ESO writes. Default: `name`. */
  targetSecret: dnsLabel("targetSecret").optional(),
  /** Infisical secret keys copied into the target Secret (under the same key). */
  keys: z.array(infisicalKeyName("GRAFANA_ADMIN_PASSWORD")).min(1),
  /** How often ESO refreshes it. Default `1h`. */
  refreshInterval: z
    .string()
    .regex(/^\d+[smh]$/, { message: "must be a duration in seconds, minutes or hours such as 30m or 1h" })
    .default("1h"),
});

export const EsoSchema = z.strictObject({
  /** Version of the `external-secrets` Helm chart. Default 2.9.0. */
  chartVersion: z
    .string()
    .regex(SEMVER, { message: "must be a chart version such as 2.9.0" })
    .default(DEFAULT_ESO_CHART_VERSION),
  /** Namespace of the operator and of the store's credential Secret. Default `external-secrets`. */
  namespace: dnsLabel("namespace").default("external-secrets"),
  /**
   * The Infisical folder the cluster may read (same project and environment as `castle:infisical`):
   * the ClusterSecretStore's `secretsPath`. Required. It must not be, nor contain, the castle's own folder
   * (`castle:infisical.secretPath`). ESO reads a key starting with `/` as an absolute path, so this is no
   * boundary by itself: the cluster's machine identity must be allowed to read this folder only
   * (`castle doctor` checks that it cannot read the castle's folder).
   */
  secretsPath: folderPath("/apps/blue"),
  /** Name of the ClusterSecretStore. Default `infisical`. */
  storeName: dnsLabel("storeName").default("infisical"),
  /** Namespaces allowed to use the ClusterSecretStore (exact names). At least one. */
  allowedNamespaces: z.array(dnsLabel("namespace")).min(1),
  /** ExternalSecret objects to create with the castle. Default none. */
  externalSecrets: z.array(ExternalSecretSchema).default([]),
  /**
   * How long `pulumi up` waits for the ClusterSecretStore and each ExternalSecret to be Ready, in seconds
   * (`pulumi.com/timeoutSeconds`). Default 300.
   */
  readyTimeoutSeconds: z
    .int({ message: "must be a whole number of seconds, from 30 to 3600" })
    .min(30, { message: "must be a whole number of seconds, from 30 to 3600" })
    .max(3600, { message: "must be a whole number of seconds, from 30 to 3600" })
    .default(DEFAULT_ESO_READY_TIMEOUT_SECONDS),
});

const GuardsSchema = z.strictObject({
  /**
   * Accept ESO using the same Infisical identity as the program. Default false: the cluster's identity
   * must be its own read-only one, since the program's identity can read the Proxmox token and the
   * secretbox key.
   */
  allowSharedInfisicalIdentity: z.boolean().default(false),
  /**
   * Some color must always serve: `castle recreate` refuses to destroy this stack unless another stack
   * is deployed and healthy. Default false.
   */
  keepOneColorUp: z.boolean().default(false),
});

// ---- GitOps (Flux) -------------------------------------------------------------------------------

/** Default Flux Operator chart version (release v0.58.1 of controlplaneio-fluxcd/flux-operator). */
const DEFAULT_FLUX_OPERATOR_CHART_VERSION = "0.58.1";
/** Default Flux distribution: 2.9.4, the newest Flux the 0.58.1 operator carries in its image. */
const DEFAULT_FLUX_VERSION = "2.9.4";
/** Default registry of the Flux controller images (the upstream images). */
const DEFAULT_FLUX_REGISTRY = "ghcr.io/fluxcd";
/** Flux controllers the castle installs by default (the Flux defaults: sources, Kustomizations, Helm, alerts). */
const DEFAULT_FLUX_COMPONENTS = [
  "source-controller",
  "kustomize-controller",
  "helm-controller",
  "notification-controller",
] as const;
/** Every controller a FluxInstance may name (`spec.components` of FluxInstance v1). */
const FLUX_COMPONENTS = [
  "source-controller",
  "kustomize-controller",
  "helm-controller",
  "notification-controller",
  "image-reflector-controller",
  "image-automation-controller",
  "source-watcher",
] as const;
/** A Go duration as Flux takes it (`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`), e.g. `1m`, `1m30s`. */
export const GO_DURATION = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;
/** An Infisical secret name (a key in the cluster's folder). */
const infisicalKey = infisicalKeyName("FLUX_GIT_TOKEN");

/**
 * Where Flux finds the Git credentials: names of secrets in the Git credential's own Infisical folder
 * (`castle:gitops.secretsPath`), never values. ESO copies them into the `flux-system` Secret through a
 * SecretStore of `flux-system` alone, with the Git credential's own identity; the program never reads them.
 * Set either `token` (HTTPS) or `sshIdentity` and `sshKnownHosts` (SSH), and for HTTPS optionally `caCert`.
 * Absent: the repository is public and served with a publicly trusted certificate (no pull secret).
 */
const GitCredentialsSchema = z.strictObject({
  /** HTTPS: the secret holding an access token (read-only), sent as the password of user `git`. */
  token: infisicalKey.optional(),
  /** SSH: the secret holding the private key (PEM/OpenSSH), a read-only deploy key. */
  sshIdentity: infisicalKey.optional(),
  /** SSH: the secret holding the server's `known_hosts` lines (required with `sshIdentity`). */
  sshKnownHosts: infisicalKey.optional(),
  /**
   * HTTPS: the secret holding the PEM certificate of the CA that signed the Git server's certificate,
   * written as `ca.crt` in the pull secret (what Flux reads). Alone, for a public repository on a
   * server with a private CA. Not with SSH: `known_hosts` is what SSH trusts.
   */
  caCert: infisicalKey.optional(),
});
export type GitCredentials = z.infer<typeof GitCredentialsSchema>;

export const GitOpsSchema = z.strictObject({
  /**
   * Git repository Flux syncs from: `https://host/org/repo.git` or `ssh://git@host/org/repo.git`
   * (no scp-like `git@host:org/repo`, which Flux refuses).
   */
  url: url({
    what: "a Git repository URL",
    schemes: ["https", "ssh"],
    sshUser: true,
    example: "https://github.com/org/repo.git or ssh://git@github.com/org/repo.git",
  }),
  /**
   * Git reference to check out, written in full as FluxInstance passes it to the GitRepository's
   * `ref.name`: `refs/heads/main` (a branch), `refs/tags/v1.2.0` (a tag; pin a commit with a tag).
   * Default `refs/heads/main`.
   */
  // A commit id is refused by the reference rule (config/rules.ts), which tells how to pin one instead.
  ref: valueKind("a Git reference", undefined, { notSecret: /^([0-9a-f]{40}|[0-9a-f]{64})$/ }).default(
    "refs/heads/main",
  ),
  /**
   * Directory of the repository applied to this cluster, relative, without `..`.
   * Default `clusters/<clusterName>` (see `resolveGitOps` in config/gitops.ts).
   */
  path: valueKind("a directory of the repository").optional(),
  /** How often Flux fetches the repository, a Go duration. Default `1m` (Flux's own default). */
  interval: z.string().regex(GO_DURATION, { message: "must be a Go duration such as 1m, 5m or 1h30m" }).default("1m"),
  /** Key names of the Git credentials in `secretsPath`. Default: none (public repository). */
  credentials: GitCredentialsSchema.optional(),
  /**
   * The Git credential's own Infisical folder (same project and environment as `castle:infisical`):
   * required with `credentials`. It must not overlap any other folder of any stack (the castle's, the
   * cluster's, another stack's), and only the Git credential's identity may read it: write access to the
   * fleet repository is cluster-admin through Flux.
   */
  secretsPath: folderPath("/gitops/blue").optional(),
  /** Version of the Flux Operator chart. Default 0.58.1. */
  operatorChartVersion: z
    .string()
    .regex(SEMVER, { message: "must be a chart version such as 0.58.1 (no leading v)" })
    .default(DEFAULT_FLUX_OPERATOR_CHART_VERSION),
  /**
   * Flux distribution, an exact version (pinned: no range, so nothing moves unless the stack says so).
   * It must be one the operator carries (operator 0.58.1: up to 2.9.4). Default 2.9.4.
   */
  fluxVersion: z
    .string()
    .regex(SEMVER, { message: "must be an exact Flux version such as 2.9.4 (no range, no leading v)" })
    .default(DEFAULT_FLUX_VERSION),
  /** Registry of the Flux controller images. Default `ghcr.io/fluxcd`. */
  registry: plainWord(
    "an image registry",
    /^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)*$/,
    "must be an image registry such as ghcr.io/fluxcd",
  ).default(DEFAULT_FLUX_REGISTRY),
  /** Flux controllers to run. Default source, kustomize, helm and notification controllers. */
  components: z
    .array(z.enum(FLUX_COMPONENTS))
    .min(1)
    .default([...DEFAULT_FLUX_COMPONENTS]),
});
export type GitOpsConfig = z.infer<typeof GitOpsSchema>;

/**
 * The shape of a stack's `castle:` keys. Rules that span several fields (addresses in the subnet,
 * duplicates, odd control-plane count) are in rules.ts; `parseCastleConfig` in load.ts applies both.
 */
export const CastleConfigSchema = z.strictObject({
  /** Cluster name, a DNS label, unique across the project's stacks. */
  clusterName: dnsLabel("clusterName"),
  /** Kubernetes version, e.g. `1.36.3` (no leading v). */
  kubernetesVersion: z
    .string()
    .regex(SEMVER, { message: "must be a Kubernetes version such as 1.36.3 (no leading v)" }),
  talos: TalosSchema,
  proxmox: ProxmoxSchema,
  network: NetworkSchema,
  /** Control-plane nodes: an odd number (1, 3, 5...) for etcd quorum. */
  controlPlanes: z.array(NodeSchema).min(1),
  /** Worker nodes. Default none (control planes then also run workloads). */
  workers: z.array(NodeSchema).default([]),
  infisical: InfisicalSchema,
  eso: EsoSchema,
  guards: GuardsSchema.prefault({}),
  /** Flux from the castle's Git repository (FluxInstance via the Flux Operator). Default: absent, no Flux. */
  gitops: GitOpsSchema.optional(),
});

/** The validated configuration of one stack. */
export type CastleConfig = z.infer<typeof CastleConfigSchema>;
/** The configuration as written in the stack file, before defaults. */
export type CastleConfigInput = z.input<typeof CastleConfigSchema>;
