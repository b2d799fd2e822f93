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
  /**
   * For a resource type the castle registers more than once with different work behind it (two Helm
   * releases, two kinds of ExternalSecret): the resource name this step is for. Without it, the step
   * is for every resource of the type that has no step of its own.
   */
  resource?: string;
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
    token: "pre:guard-read",
    kind: "pre",
    label: "guard reads (outputs, Proxmox VMs)",
    seconds: 1,
    why: "in parallel: config/guards.ts reads the stack's previous outputs (one backend read), config/running-castle.ts lists the Proxmox cluster's nodes and VMs (getNodesLegacy, getVmsLegacy: GET /nodes, then GET /nodes/<node>/qemu per node on the LAN)",
  },
  {
    token: "castle:index:TalosImage",
    kind: "resource",
    label: "TalosImage component",
    seconds: 0,
    why: "component: engine-local",
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
    token: "kubernetes:external-secrets.io/v1:SecretStore",
    kind: "resource",
    label: "Git credential's SecretStore (flux-system)",
    seconds: 1,
    why: "one create through ESO's validating webhook, then ESO logs in to Infisical with the Git credential's identity; Pulumi waits for Ready",
  },
  {
    token: "kubernetes:external-secrets.io/v1:ExternalSecret",
    kind: "resource",
    label: "ExternalSecret",
    seconds: 1,
    why: "one create through ESO's validating webhook",
  },
  {
    token: "castle:index:GitOps",
    kind: "resource",
    label: "GitOps component",
    seconds: 0,
    why: "component: engine-local",
  },
  {
    token: "kubernetes:helm.sh/v3:Release",
    resource: "gitops-operator",
    kind: "resource",
    label: "Flux Operator Helm release",
    seconds: 30,
    why: "OCI chart pull from ghcr.io, 4 CRDs, one Deployment waited for: an image pull on a fresh node and a readiness probe after 5 s, every 10 s",
  },
  {
    token: "kubernetes:external-secrets.io/v1:ExternalSecret",
    resource: "gitops-pull-secret",
    kind: "resource",
    label: "Git pull secret (ExternalSecret, awaited Ready)",
    seconds: 2,
    why: "create through ESO's webhook, then ESO logs in to Infisical with the cluster's identity, reads the keys and writes the Secret; Pulumi waits for Ready",
  },
  {
    token: "kubernetes:fluxcd.controlplane.io/v1:FluxInstance",
    kind: "resource",
    label: "FluxInstance (Flux install and first sync)",
    seconds: 60,
    why: "the operator applies Flux from the manifests in its image, waits for four controller Deployments (image pulls from ghcr.io), then for the GitRepository fetch and the first Kustomization apply (kstatus polled every 5 s); the operator's docs show 52 s for an install",
  },
];

/** `token`, or `token#resource` for a step of one named resource. */
export function stepKey(step: Pick<ModelledStep, "token" | "resource">): string {
  return step.resource === undefined ? step.token : `${step.token}#${step.resource}`;
}

const byKey = new Map(STEPS.map((step) => [stepKey(step), step]));

/**
 * The modelled step of a token (or a `token#resource` key), for the resource `name` when given: the
 * step of that very resource if the table has one, else the token's. Throws naming the token when the
 * table lacks it.
 */
export function stepOf(key: string, name?: string): ModelledStep {
  const step = (name === undefined ? undefined : byKey.get(`${key}#${name}`)) ?? byKey.get(key);
  if (step === undefined) {
    throw new Error(`bench/model.ts has no modelled duration for ${key}: add it to STEPS with a reason`);
  }
  return step;
}

/** The work done before the program registers its first resource (loadCastle). */
export const PRE_PROGRAM: readonly string[] = ["pre:infisical-login", "pre:infisical-list", "pre:guard-read"];

/**
 * What a castle deployment cannot do faster than: the steps that must happen one after another whatever
 * the program does. Each step waits for what it needs to exist:
 * secrets before anything; the schematic ID before its URLs; the URL before the download; the image
 * before the VM; the VM before its configuration can be applied; an installed control plane before etcd
 * is bootstrapped; etcd before a kubeconfig is issued and the cluster is healthy; a healthy cluster
 * before the Kubernetes provider talks to it; the namespace before the release installed into it; the
 * release's CRDs and webhook before the Git credential's SecretStore; that store before the Git pull
 * secret's ExternalSecret that reads through it; the pull secret (and the Flux Operator's CRD, installed
 * beside ESO) before the FluxInstance, whose Ready includes the first sync. The machine configs, the
 * machine secrets, the providers, the Flux Operator release, the cluster's ClusterSecretStore (which the
 * FluxInstance also waits for, as long as the SecretStore) and the stack's other ExternalSecrets run
 * beside this chain.
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
  "kubernetes:external-secrets.io/v1:SecretStore",
  "kubernetes:external-secrets.io/v1:ExternalSecret#gitops-pull-secret",
  "kubernetes:fluxcd.controlplane.io/v1:FluxInstance",
];

/** Sum of the modelled durations of the essential chain, seconds: no deployment is faster. */
export function lowerBoundSeconds(): number {
  return ESSENTIAL_CHAIN.reduce((sum, token) => sum + stepOf(token).seconds, 0);
}

/** Seconds of the work done before the program starts. */
export function preProgramSeconds(): number {
  return PRE_PROGRAM.reduce((sum, token) => sum + stepOf(token).seconds, 0);
}
