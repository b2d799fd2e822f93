/**
 * The modelled duration of every step of a first `pulumi up` of the castle, per Pulumi type token
 * (resources) or function token (invokes), in seconds of real time. The deployment benchmark makes the
 * mock runtime wait this long (scaled) before a registration or invoke answers, so the program's own
 * ordering decides how long the whole run takes.
 *
 * The numbers are order-of-magnitude estimates for a home lab (a few Proxmox nodes on one LAN, a
 * 100-500 Mbit/s uplink, Image Factory and Infisical Cloud over the internet); the reason for each is
 * in `why`. What the benchmark reports is the ratio of the simulated run to the lower bound computed
 * from this same table, which depends on the program's ordering, not on the exact numbers.
 */

export interface ModelledStep {
  /** Type token of a resource, function token of an invoke, or `pre:<step>` for work before the first resource. */
  token: string;
  kind: "pre" | "resource" | "invoke";
  /** Short label used in the critical path. */
  label: string;
  /** Modelled duration, seconds. */
  seconds: number;
  /** Why the number is plausible. */
  why: string;
}

/** Every step the castle's `pulumi up` takes. A token missing here stops the benchmark (no silent zero). */
export const STEPS: readonly ModelledStep[] = [
  {
    token: "pre:infisical-login",
    kind: "pre",
    label: "Infisical login",
    seconds: 0.5,
    why: "one HTTPS POST (Universal Auth) to Infisical Cloud: TCP+TLS handshake (~3 RTT) and a hashed client-secret check server-side",
  },
  {
    token: "pre:infisical-list",
    kind: "pre",
    label: "Infisical list",
    seconds: 0.5,
    why: "one HTTPS GET of the folder's secrets on the same connection; the server decrypts each value",
  },
  {
    token: "pre:stack-reference",
    kind: "pre",
    label: "guard read (StackReference)",
    seconds: 1,
    why: "config/guards.ts reads the stack's own previous outputs: one backend read (Pulumi Cloud API or object storage)",
  },
  {
    token: "castle:index:ProxmoxNodes",
    kind: "resource",
    label: "ProxmoxNodes component",
    seconds: 0,
    why: "component resources are engine-local bookkeeping (milliseconds)",
  },
  {
    token: "castle:index:SecretboxEncryption",
    kind: "resource",
    label: "SecretboxEncryption component",
    seconds: 0,
    why: "component: engine-local",
  },
  {
    token: "castle:index:TalosCluster",
    kind: "resource",
    label: "TalosCluster component",
    seconds: 0,
    why: "component: engine-local",
  },
  {
    token: "castle:index:ExternalSecrets",
    kind: "resource",
    label: "ExternalSecrets component",
    seconds: 0,
    why: "component: engine-local",
  },
  {
    token: "castle:index:InfisicalStore",
    kind: "resource",
    label: "InfisicalStore component",
    seconds: 0,
    why: "component: engine-local",
  },
  {
    token: "pulumi:providers:proxmoxve",
    kind: "resource",
    label: "Proxmox provider",
    seconds: 0.8,
    why: "provider plugin process start plus Configure; the bpg provider only builds its API client here",
  },
  {
    token: "talos:machine/secrets:Secrets",
    kind: "resource",
    label: "machine secrets",
    seconds: 0.6,
    why: "generated locally by the talos provider (a handful of CA certificates and keys), plus plugin start",
  },
  {
    token: "talos:imageFactory/schematic:Schematic",
    kind: "resource",
    label: "Image Factory schematic",
    seconds: 1,
    why: "one POST of the schematic YAML to factory.talos.dev; the ID is content-addressed, so no build happens here",
  },
  {
    token: "talos:imageFactory/getUrls:getUrls",
    kind: "invoke",
    label: "getUrls",
    seconds: 1,
    why: "the provider asks Image Factory about the version and schematic (one round trip) and formats the URLs",
  },
  {
    token: "proxmoxve:download/file:File",
    kind: "resource",
    label: "Talos image download",
    seconds: 60,
    why: "Image Factory builds an image for a new schematic on first request (tens of seconds), then Proxmox pulls a few hundred MB (~20-40 s at 100 Mbit/s)",
  },
  {
    token: "proxmoxve:index/vmLegacy:VmLegacy",
    kind: "resource",
    label: "VM create",
    seconds: 20,
    why: "import of the image into the VM disk on LVM-thin (qemu-img, seconds per GB), cloud-init drive, start, boot to Talos maintenance mode (~10 s)",
  },
  {
    token: "talos:machine/getConfiguration:getConfiguration",
    kind: "invoke",
    label: "machine config render",
    seconds: 1,
    why: "rendered locally by the talos provider (config generation and patch validation, no network)",
  },
  {
    token: "talos:client/getConfiguration:getConfiguration",
    kind: "invoke",
    label: "talosconfig render",
    seconds: 0.5,
    why: "local: builds the talosconfig from the client certificate",
  },
  {
    token: "talos:machine/configurationApply:ConfigurationApply",
    kind: "resource",
    label: "config apply (install + reboot)",
    seconds: 90,
    why: "in maintenance mode the node pulls the installer image from factory.talos.dev (~100+ MB), writes the disk and reboots into the configured system; 1-2 minutes",
  },
  {
    token: "talos:machine/bootstrap:Bootstrap",
    kind: "resource",
    label: "etcd bootstrap",
    seconds: 30,
    why: "the provider retries the bootstrap call until the rebooted node's API answers, then etcd starts",
  },
  {
    token: "talos:cluster/kubeconfig:Kubeconfig",
    kind: "resource",
    label: "kubeconfig",
    seconds: 5,
    why: "one Talos API call that signs an admin client certificate, retried while the control plane starts",
  },
  {
    token: "talos:cluster/getHealth:getHealth",
    kind: "invoke",
    label: "cluster health",
    seconds: 60,
    why: "waits for etcd, kubelets, every node Ready, static pods, CoreDNS and kube-proxy: typically 1-3 minutes after bootstrap",
  },
  {
    token: "pulumi:providers:kubernetes",
    kind: "resource",
    label: "Kubernetes provider",
    seconds: 2,
    why: "plugin start plus Configure, which parses the kubeconfig and discovers the API server's resources",
  },
  {
    token: "kubernetes:core/v1:Namespace",
    kind: "resource",
    label: "namespace",
    seconds: 1,
    why: "one create, ready at once",
  },
  {
    token: "kubernetes:helm.sh/v3:Release",
    kind: "resource",
    label: "ESO Helm release",
    seconds: 60,
    why: "chart pull, ~20 CRDs, three Deployments waited for (atomic): image pulls on fresh nodes and the webhook certificate",
  },
  {
    token: "kubernetes:core/v1:Secret",
    kind: "resource",
    label: "credentials Secret",
    seconds: 1,
    why: "one create, ready at once",
  },
  {
    token: "kubernetes:external-secrets.io/v1:ClusterSecretStore",
    kind: "resource",
    label: "ClusterSecretStore",
    seconds: 1,
    why: "one create through ESO's validating webhook (a CustomResource has no readiness await)",
  },
  {
    token: "kubernetes:external-secrets.io/v1:ExternalSecret",
    kind: "resource",
    label: "ExternalSecret",
    seconds: 1,
    why: "one create through ESO's validating webhook",
  },
];

const byToken = new Map(STEPS.map((step) => [step.token, step]));

/** The modelled step of a token; throws naming the token when the table lacks it. */
export function stepOf(token: string): ModelledStep {
  const step = byToken.get(token);
  if (step === undefined) {
    throw new Error(`bench/model.ts has no modelled duration for ${token}: add it to STEPS with a reason`);
  }
  return step;
}

/** The work done before the program registers its first resource (loadCastle). */
export const PRE_PROGRAM: readonly string[] = ["pre:infisical-login", "pre:infisical-list", "pre:stack-reference"];

/**
 * What a castle deployment cannot do faster than: the steps that must happen one after another whatever
 * the program does. Each step waits for what it needs to exist:
 * secrets before anything; the schematic ID before its URLs; the URL before the download; the image
 * before the VM; the VM before its configuration can be applied; an installed control plane before etcd
 * is bootstrapped; etcd before a kubeconfig is issued and the cluster is healthy; a healthy cluster
 * before the Kubernetes provider talks to it; the namespace before the release installed into it; the
 * release's CRDs and webhook before a ClusterSecretStore; the store before the ExternalSecret that reads
 * through it. The machine configs, the machine secrets and the providers run beside this chain.
 */
export const ESSENTIAL_CHAIN: readonly string[] = [
  ...PRE_PROGRAM,
  "talos:imageFactory/schematic:Schematic",
  "talos:imageFactory/getUrls:getUrls",
  "proxmoxve:download/file:File",
  "proxmoxve:index/vmLegacy:VmLegacy",
  "talos:machine/configurationApply:ConfigurationApply",
  "talos:machine/bootstrap:Bootstrap",
  "talos:cluster/kubeconfig:Kubeconfig",
  "talos:cluster/getHealth:getHealth",
  "pulumi:providers:kubernetes",
  "kubernetes:core/v1:Namespace",
  "kubernetes:helm.sh/v3:Release",
  "kubernetes:external-secrets.io/v1:ClusterSecretStore",
  "kubernetes:external-secrets.io/v1:ExternalSecret",
];

/** Sum of the modelled durations of the essential chain, seconds: no deployment is faster. */
export function lowerBoundSeconds(): number {
  return ESSENTIAL_CHAIN.reduce((sum, token) => sum + stepOf(token).seconds, 0);
}

/** Seconds of the work done before the program starts. */
export function preProgramSeconds(): number {
  return PRE_PROGRAM.reduce((sum, token) => sum + stepOf(token).seconds, 0);
}
