/**
 * `castle check <stack>`: validates `Pulumi.<stack>.yaml` and the cross-stack rules, with no Pulumi CLI.
 */
import { CastleConfigError, listStacks, loadStackFile, stackFileName } from "../config/load";
import { nodesWithPaths } from "../config/rules";
import type { CastleConfig } from "../config/schema";
import { clusterEndpoint, controlPlanesRunWorkloads } from "../config/topology";

/** Rows of text cells as aligned columns, two spaces apart, header first. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** A one-screen summary of a valid stack. */
function summarize(stack: string, config: CastleConfig): string {
  const rows = nodesWithPaths(config).map(({ node, role }) => [
    node.hostname,
    role === "controlPlane" ? "control plane" : "worker",
    node.ip,
    String(node.vmId),
    node.proxmoxNode,
    `${node.cores} cores, ${node.memoryMiB} MiB, ${node.diskGiB} GiB`,
  ]);
  const header = ["hostname", "role", "ip", "vm id", "proxmox node", "size"];
  const { network, proxmox, infisical, eso, talos } = config;
  return [
    `stack ${stack} (${stackFileName(stack)}): ok`,
    `cluster ${config.clusterName}: Talos ${talos.version} (contract ${talos.contract}), Kubernetes ${config.kubernetesVersion}`,
    `endpoint ${clusterEndpoint(network)} (VIP), network ${network.cidr}, gateway ${network.gateway}`,
    `workloads run on ${controlPlanesRunWorkloads(config) ? (config.workers.length === 0 ? "the control planes (no workers)" : "the control planes and the workers") : "the workers only (control planes tainted)"}`,
    `proxmox ${proxmox.endpoint} (TLS verification ${proxmox.insecureSkipTlsVerify ? "OFF" : "on"}), nodes ${proxmox.nodes.join(", ")}`,
    "",
    ...formatTable(header, rows),
    "",
    `infisical ${infisical.siteUrl} project ${infisical.projectSlug} env ${infisical.environment} path ${infisical.secretPath}`,
    `eso chart ${eso.chartVersion} in ${eso.namespace}, store ${eso.storeName} reading ${eso.secretsPath} for namespaces ${eso.allowedNamespaces.join(", ")}`,
    ...(config.gitops ? [gitopsSummary(config.gitops)] : []),
  ].join("\n");
}

/** One line on Flux: what it syncs, and where its Git credentials come from (names only). */
function gitopsSummary(gitops: NonNullable<CastleConfig["gitops"]>): string {
  const sync = `gitops ${gitops.url} ${gitops.ref}`;
  const credentials = gitops.credentials;
  if (!credentials) return `${sync}, public repository`;
  const keys = Object.entries(credentials)
    .filter(([, name]) => name !== undefined)
    .map(([field, name]) => `${field} ${name}`);
  return `${sync}, ${keys.join(", ")} from ${gitops.secretsPath} through the flux-system store with its own identity`;
}

export interface CheckResult {
  code: number;
  config?: CastleConfig;
}

export function check(projectDir: string, stack: string, out: (line: string) => void): CheckResult {
  try {
    const config = loadStackFile(projectDir, stack);
    out(summarize(stack, config));
    return { code: 0, config };
  } catch (error) {
    if (!(error instanceof CastleConfigError)) throw error;
    out(error.message);
    return { code: 1 };
  }
}

/** `castle check --all`: every stack file of the project; exit 1 when any has a problem. */
export function checkAll(projectDir: string, out: (line: string) => void): number {
  const stacks = listStacks(projectDir);
  if (stacks.length === 0) {
    out(`no Pulumi.<stack>.yaml in ${projectDir}`);
    return 1;
  }
  const failed = stacks.filter((stack, i) => {
    if (i > 0) out("");
    return check(projectDir, stack, out).code !== 0;
  });
  out("");
  out(
    failed.length === 0
      ? `all ${stacks.length} stacks ok: ${stacks.join(", ")}`
      : `${failed.length} of ${stacks.length} stacks have problems: ${failed.join(", ")}`,
  );
  return failed.length === 0 ? 0 : 1;
}
