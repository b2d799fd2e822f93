/**
 * `castle render <stack> [--out DIR]`: what `pulumi up` would create, computed offline.
 *
 * The real program runs under Pulumi's mock runtime with the offline provider model: no Pulumi CLI, no
 * Infisical, no credentials, no network. Values that would come from Infisical are marked placeholders,
 * and every secret is written as `[secret]`. The same stack file gives the same files, byte for byte, so
 * a pull request (from a fork too) can show reviewers a diff of the castle.
 */
import path from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { CastleConfigError, loadStackFile } from "../config/load";
import type { CastleConfig } from "../config/schema";
import { asPulumiSecrets, type CastleSecretValues } from "../config/secrets";
import { secretboxKeyFingerprint } from "../lib/secretbox";
import {
  isSecretMarked,
  type RecordedInvoke,
  type RecordedResource,
  settle,
  startMocks,
  withoutSourceMaps,
} from "../offline/mock-runtime";
import { offlineMocks } from "../offline/offline-provider";
import {
  outDirRefusal,
  RENDER_MARKER,
  RenderFolderError,
  removePreviousRendering,
  writeRenderingFiles,
} from "./render-folder";

/** How a secret value appears in rendered files. */
export const SECRET = "[secret]";

/**
 * Placeholders for the values a real run reads from Infisical. Well formed (the secretbox key is 32
 * bytes of base64) so the program's own checks pass, and never written out: rendering replaces them.
 */
export const PLACEHOLDER_SECRETS: CastleSecretValues = {
  secretboxKey: Buffer.from("castle-render-placeholder-key-32").toString("base64"),
  proxmoxTokenId: "placeholder@pve!from-infisical",
  proxmoxTokenSecret: "placeholder-proxmox-token-secret-from-infisical",
  esoClientId: "placeholder-eso-client-id-from-infisical",
  esoClientSecret: "placeholder-eso-client-secret-from-infisical",
  gitopsClientId: "placeholder-gitops-client-id-from-infisical",
  gitopsClientSecret: "placeholder-gitops-client-secret-from-infisical",
};

export interface RenderedResource {
  type: string;
  name: string;
  parent: string | null;
  custom: boolean;
  inputs: unknown;
}

export interface Rendering {
  resources: RenderedResource[];
  /** Per node hostname: the Talos config patches, as one multi-document YAML text. */
  talos: Record<string, string>;
  /** Per file name: one Kubernetes object, or the Helm release's chart, version and values. */
  kubernetes: Record<string, string>;
  invokes: Record<string, number>;
}

/**
 * The secretbox key's fingerprint as it shows in a rendering (the VM tags `castle-key-sha256-<hex>`, the
 * guard's inputs): computed from the placeholder key, so the same for every stack, and marked as such.
 */
const PLACEHOLDER_FINGERPRINT_HEX = secretboxKeyFingerprint(PLACEHOLDER_SECRETS.secretboxKey).replace(/^sha256:/, "");
export const FINGERPRINT_PLACEHOLDER = "<placeholder: fingerprint of the secretbox key in Infisical>";

/** `text` with the placeholder key's fingerprint marked as a placeholder. */
function markPlaceholders(text: string): string {
  return text.split(PLACEHOLDER_FINGERPRINT_HEX).join(FINGERPRINT_PLACEHOLDER);
}

/** The text with every placeholder secret replaced by `[secret]`. */
function redactText(text: string): string {
  let out = text;
  for (const value of Object.values(PLACEHOLDER_SECRETS)) out = out.split(value).join(SECRET);
  return out;
}

/**
 * Secret-marked values become `[secret]`, and so does any string holding a placeholder secret.
 * Keys are sorted (stable output) unless `keepKeyOrder` (Talos documents read best in their own order).
 */
function redact(value: unknown, options: { keepKeyOrder?: boolean } = {}): unknown {
  const keepOrder = options.keepKeyOrder === true;
  if (isSecretMarked(value)) return SECRET;
  if (typeof value === "string") return value === redactText(value) ? markPlaceholders(value) : SECRET;
  if (Array.isArray(value)) return value.map((v) => redact(v, options));
  if (value && typeof value === "object") {
    const keys = keepOrder ? Object.keys(value) : Object.keys(value).sort();
    return Object.fromEntries(keys.map((key) => [key, redact((value as Record<string, unknown>)[key], options)]));
  }
  return value;
}

const byTypeAndName = (a: { type: string; name: string }, b: { type: string; name: string }) =>
  a.type === b.type ? a.name.localeCompare(b.name) : a.type.localeCompare(b.type);

/** The Talos patches of each node, from the machine-configuration invokes (one per node). */
function talosPatches(invokes: RecordedInvoke[]): Record<string, string> {
  const perNode: Record<string, string> = {};
  for (const invoke of invokes.filter((i) => i.token === "talos:machine/getConfiguration:getConfiguration")) {
    const patches = (invoke.inputs.configPatches as string[] | undefined) ?? [];
    // Invoke arguments reach the provider unmarked, so secrets are found by value, document by document.
    const documents = patches.flatMap((patch) =>
      parseAllDocuments(patch).map((d) => redact(d.toJS(), { keepKeyOrder: true })),
    );
    const hostname = (documents as { kind?: string; hostname?: string }[]).find(
      (doc) => doc?.kind === "HostnameConfig",
    )?.hostname;
    if (!hostname) throw new Error("render: a machine configuration has no HostnameConfig patch; cannot tell its node");
    const header =
      `# Talos config patches of ${hostname} (${String(invoke.inputs.machineType)}), in the order applied\n` +
      `# Kubernetes ${String(invoke.inputs.kubernetesVersion)}, Talos config contract ${String(invoke.inputs.talosVersion)}\n`;
    perNode[hostname] = header + documents.map((doc) => `---\n${stringify(doc)}`).join("");
  }
  return perNode;
}

function kubernetesFiles(resources: RecordedResource[]): Record<string, string> {
  const files: Record<string, string> = {};
  for (const resource of resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"))) {
    const inputs = redact(resource.inputs) as Record<string, unknown>;
    if (resource.type === "kubernetes:helm.sh/v3:Release") {
      const { chart, version, repositoryOpts, namespace, values, name, atomic, timeout, skipCrds } = inputs;
      const release = { name, namespace, chart, version, repositoryOpts, atomic, timeout, skipCrds, values };
      files[`helm-release-${resource.name}.yaml`] = stringify(release, { sortMapEntries: true });
      continue;
    }
    const metadata = (inputs.metadata ?? {}) as { name?: string; namespace?: string };
    const kind = String(inputs.kind ?? resource.type.split(":").pop());
    const file = [kind, metadata.namespace, metadata.name ?? resource.name].filter(Boolean).join("-").toLowerCase();
    const { apiVersion, kind: _kind, metadata: _metadata, ...rest } = inputs;
    files[`${file}.yaml`] = stringify({ apiVersion, kind, metadata, ...rest }, { sortMapEntries: true });
  }
  return files;
}

/** Runs the program for a validated stack under the mock runtime and collects what it would create. */
async function renderStack(stack: string, config: CastleConfig): Promise<Rendering> {
  const harness = startMocks(offlineMocks({ stack }));
  // Loaded on demand (the other commands need none of Pulumi's SDKs), with `require` so that it loads
  // under the CLI's CommonJS loader as well as under the tests' `--import tsx`.
  const castle: typeof import("../index") = require("../index");
  await withoutSourceMaps(async () => {
    await castle({
      stack,
      config,
      secrets: asPulumiSecrets(PLACEHOLDER_SECRETS),
      guarded: {
        fingerprint: secretboxKeyFingerprint(PLACEHOLDER_SECRETS.secretboxKey),
        contract: config.talos.contract,
      },
    });
    await settle();
  });
  if (harness.unexpectedInvokes.length > 0) {
    throw new Error(`render: the offline model has no answer for ${harness.unexpectedInvokes.join(", ")}`);
  }
  const resources = [...harness.resources].sort(byTypeAndName).map((r) => ({
    type: r.type,
    name: r.name,
    parent: r.parent ?? null,
    custom: r.custom,
    inputs: redact(r.inputs),
  }));
  const invokes: Record<string, number> = {};
  for (const invoke of harness.invokes) invokes[invoke.token] = (invokes[invoke.token] ?? 0) + 1;
  return {
    resources,
    talos: talosPatches(harness.invokes),
    kubernetes: kubernetesFiles(harness.resources),
    invokes: Object.fromEntries(Object.entries(invokes).sort()),
  };
}

/** The inputs worth a glance in the terminal, per type token. */
const KEY_INPUTS: Record<string, string[]> = {
  "pulumi:providers:proxmoxve": ["endpoint", "insecure"],
  "proxmoxve:download/file:File": ["nodeName", "datastoreId", "fileName"],
  "proxmoxve:index/vmLegacy:VmLegacy": ["nodeName", "vmId", "name"],
  "talos:machine/secrets:Secrets": ["talosVersion"],
  "talos:machine/configurationApply:ConfigurationApply": ["node"],
  "talos:machine/bootstrap:Bootstrap": ["node"],
  "talos:cluster/kubeconfig:Kubeconfig": ["node"],
  "kubernetes:helm.sh/v3:Release": ["chart", "version", "namespace"],
  "kubernetes:core/v1:Namespace": ["metadata.name"],
  "kubernetes:core/v1:Secret": ["metadata.namespace", "metadata.name"],
  "kubernetes:external-secrets.io/v1:ClusterSecretStore": ["metadata.name"],
  "kubernetes:external-secrets.io/v1:ExternalSecret": ["metadata.namespace", "metadata.name"],
  "kubernetes:fluxcd.controlplane.io/v1:FluxInstance": ["spec.sync.url", "spec.sync.ref", "spec.sync.path"],
};

function pick(inputs: unknown, dotted: string): unknown {
  return dotted.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], inputs);
}

/** The resource tree for the terminal: components with their children, and the inputs that matter. */
function resourceTree(stack: string, rendering: Rendering, config: CastleConfig): string[] {
  const { resources } = rendering;
  const label = (r: RenderedResource) => {
    const keys = (KEY_INPUTS[r.type] ?? [])
      .map((k) => [k.split(".").pop(), pick(r.inputs, k)] as const)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
    return `${r.type} ${r.name}${keys.length ? `  ${keys.join(" ")}` : ""}`;
  };
  const lines = [
    `castle render ${stack}: ${resources.length} resources (Talos ${config.talos.version}, Kubernetes ${config.kubernetesVersion})`,
  ];
  const children = (parent: string | null) => resources.filter((r) => r.parent === parent);
  const walk = (parent: string | null, indent: string) => {
    const list = children(parent);
    list.forEach((r, i) => {
      const last = i === list.length - 1;
      lines.push(`${indent}${last ? "└─ " : "├─ "}${label(r)}`);
      walk(`${r.type}::${r.name}`, `${indent}${last ? "   " : "│  "}`);
    });
  };
  walk(null, "");
  // From the rendered patches themselves: what Talos will be told, not what the stack file meant.
  const scheduling = Object.entries(rendering.talos)
    .filter(([, text]) => /^\s*allowSchedulingOnControlPlanes: true$/m.test(text))
    .map(([hostname]) => hostname);
  lines.push(
    `workloads on control planes: ${scheduling.length > 0 ? `yes (${scheduling.sort().join(", ")})` : "no (Talos taints them)"}`,
  );
  lines.push(
    `invokes: ${Object.entries(rendering.invokes)
      .map(([t, n]) => `${t} ×${n}`)
      .join(", ")}`,
  );
  return lines;
}

/** The files of a rendering, relative path -> text, in the order they are written. */
function renderingFiles(stack: string, rendering: Rendering): Record<string, string> {
  const files: Record<string, string> = {
    "resources.json": `${JSON.stringify({ stack, resources: rendering.resources }, null, 2)}\n`,
  };
  for (const [hostname, text] of Object.entries(rendering.talos).sort()) files[`talos/${hostname}.yaml`] = text;
  for (const [file, text] of Object.entries(rendering.kubernetes).sort()) files[`kubernetes/${file}`] = text;
  return files;
}

export interface RenderIo {
  out(line: string): void;
  err(line: string): void;
}

export async function render(projectDir: string, stack: string, outDir: string | undefined, io: RenderIo) {
  let config: CastleConfig;
  try {
    config = loadStackFile(projectDir, stack);
  } catch (error) {
    if (!(error instanceof CastleConfigError)) throw error;
    io.err(error.message);
    return 1;
  }
  const target = outDir === undefined ? undefined : path.resolve(projectDir, outDir);
  const refusal = target === undefined ? undefined : outDirRefusal(target);
  if (refusal) {
    io.err(`castle render: ${refusal}`);
    return 1;
  }
  const rendering = await renderStack(stack, config);
  for (const line of resourceTree(stack, rendering, config)) io.out(line);
  if (target !== undefined) {
    let written: string[];
    try {
      for (const { entry, reason } of removePreviousRendering(target)) {
        // The marker may come from a pull request: its entries are not repeated.
        io.err(`castle render: left alone an entry of ${RENDER_MARKER} (number ${entry + 1}) that ${reason}`);
      }
      written = writeRenderingFiles(target, renderingFiles(stack, rendering), { writtenBy: "castle render", stack });
    } catch (error) {
      if (!(error instanceof RenderFolderError)) throw error;
      io.err(`castle render: ${error.message}`);
      return 1;
    }
    io.out(`wrote ${written.length} files to ${outDir}`);
  }
  return 0;
}
