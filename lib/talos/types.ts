/**
 * Object types of the `talos` provider schema (pulumiverse/pulumi-talos v0.8.1
 * provider/cmd/pulumi-resource-talos/schema.json), camelCase as on the wire.
 * Certificates and keys are base64 of PEM. The published SDK nests these under
 * `types.input.<module>` / `types.output.<module>`; here they are flat, one name per shape.
 */
import type * as pulumi from "@pulumi/pulumi";

/** `talos:machine/generated:ClientConfiguration`: mTLS material for talosctl and the provider. */
export interface ClientConfiguration {
  /** The client CA certificate. */
  caCertificate: string;
  /** The client certificate. */
  clientCertificate: string;
  /** The client private key (secret). */
  clientKey: string;
}

/** The same, with each field an Input. */
export interface ClientConfigurationArgs {
  /** The client CA certificate. */
  caCertificate: pulumi.Input<string>;
  /** The client certificate. */
  clientCertificate: pulumi.Input<string>;
  /** The client private key (secret). */
  clientKey: pulumi.Input<string>;
}

/** `talos:machine/generated:Certificate`. */
export interface Certificate {
  /** Certificate. */
  cert: string;
  /** Private key (secret). */
  key: string;
}

/** `talos:machine/generated:Key`. */
export interface Key {
  /** Private key (secret). */
  key: string;
}

/** `talos:machine/generated:Certificates`. */
export interface Certificates {
  /** etcd CA. */
  etcd: Certificate;
  /** Kubernetes CA. */
  k8s: Certificate;
  /** Kubernetes aggregator (front-proxy) CA. */
  k8sAggregator: Certificate;
  /** Kubernetes service-account signing key. */
  k8sServiceaccount: Key;
  /** Talos API (os) CA. */
  os: Certificate;
}

/** `talos:machine/generated:Cluster`. */
export interface Cluster {
  /** Cluster id. */
  id: string;
  /** Cluster secret (secret). */
  secret: string;
}

/** `talos:machine/generated:KubernetesSecrets`. */
export interface KubernetesSecrets {
  /** The aescbc encryption secret, only generated for contracts up to v1.2 (secret). */
  aescbcEncryptionSecret?: string;
  /** The bootstrap token (secret). */
  bootstrapToken: string;
  /** The secretbox encryption secret (secret). */
  secretboxEncryptionSecret: string;
}

/** `talos:machine/generated:TrustdInfo`. */
export interface TrustdInfo {
  /** The trustd token (secret). */
  token: string;
}

/** `talos:machine/generated:MachineSecrets`: the cluster's secrets bundle. */
export interface MachineSecrets {
  /** Certificate authorities and keys. */
  certs: Certificates;
  /** Cluster id and secret. */
  cluster: Cluster;
  /** Kubernetes secrets. */
  secrets: KubernetesSecrets;
  /** trustd token. */
  trustdinfo: TrustdInfo;
}

/** `talos:cluster/KubeconfigKubernetesClientConfiguration`: the Kubernetes admin credentials. */
export interface KubernetesClientConfiguration {
  /** The Kubernetes CA certificate. */
  caCertificate: string;
  /** The Kubernetes client certificate. */
  clientCertificate: string;
  /** The Kubernetes client key (secret). */
  clientKey: string;
  /** The Kubernetes API host. */
  host: string;
}

/** `talos:machine/ConfigurationApplyOnDestroy`: what happens to the node when the apply is destroyed. */
export interface ConfigurationApplyOnDestroy {
  /** Leave etcd before resetting; default true. */
  graceful?: pulumi.Input<boolean>;
  /** Reboot (true) or halt (false) after resetting; default false. */
  reboot?: pulumi.Input<boolean>;
  /** Reset the machine, wiping STATE and EPHEMERAL; default false. */
  reset?: pulumi.Input<boolean>;
}

/** Go duration strings (`10m`) per operation. */
export interface Timeouts {
  /** Timeout of create. */
  create?: pulumi.Input<string>;
  /** Timeout of update. */
  update?: pulumi.Input<string>;
  /** Timeout of delete. */
  delete?: pulumi.Input<string>;
}

/** Go duration string (`10m`) of a read. */
export interface ReadTimeouts {
  /** Timeout of the read. */
  read?: pulumi.Input<string>;
}

/** `talos:imageFactory/getUrlsUrls`: every asset URL; an absent asset is the empty string. */
export interface Urls {
  /** Disk image URL. */
  diskImage: string;
  /** SecureBoot disk image URL. */
  diskImageSecureboot: string;
  /** initramfs URL. */
  initramfs: string;
  /** Installer image reference. */
  installer: string;
  /** SecureBoot installer image reference. */
  installerSecureboot: string;
  /** ISO URL. */
  iso: string;
  /** SecureBoot ISO URL. */
  isoSecureboot: string;
  /** Kernel URL. */
  kernel: string;
  /** Kernel command line URL. */
  kernelCommandLine: string;
  /** PXE URL. */
  pxe: string;
  /** UKI URL. */
  uki: string;
}
