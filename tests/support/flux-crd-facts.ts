/**
 * Facts about the FluxInstance API, derived from the CRD of flux-operator v0.58.1
 * (github.com/controlplaneio-fluxcd/flux-operator at tag v0.58.1,
 * `fluxcd.controlplane.io_fluxinstances.yaml`, `spec.versions[name=v1].schema.openAPIV3Schema`), and from
 * the two objects the operator generates from `spec.sync`: the GitRepository of source-controller (the
 * CRD Flux 2.9.4 installs, `source.toolkit.fluxcd.io/v1`) and the Kustomization of kustomize-controller
 * v1.9.4 (`kustomize.toolkit.fluxcd.io/v1`), checked by the engine of schema-check.ts.
 *
 * The table covers every FluxInstance field with the CRD's names, required fields, types, enums and
 * patterns; subtrees the castle does not write (`kustomize`, `sharding`, `storage`, `commonMetadata`)
 * are listed by name and accepted unchecked. The CRD's CEL rules are checked by hand, and so is what
 * `sync` becomes: `sync.url` is the GitRepository's `spec.url` (pattern `^(http|https|ssh)://.*$`),
 * `sync.ref` its `spec.ref.name` (a full Git reference), `sync.interval` its `spec.interval`,
 * `sync.pullSecret` its `spec.secretRef.name`, and `sync.path` the Kustomization's `spec.path`.
 */
import {
  DNS_LABEL,
  DNS_SUBDOMAIN,
  type Fact,
  isRecord,
  labelled,
  manifestLabel,
  unservedApiVersion,
  walk,
} from "./schema-check";

export const FLUX_CRD_SOURCE = "flux-operator v0.58.1 CRD fluxcd.controlplane.io_fluxinstances.yaml";

/** What the FluxInstance CRD serves: one version, namespaced. */
export const FLUX_INSTANCE_CRD = { group: "fluxcd.controlplane.io", served: ["v1"], scope: "Namespaced" } as const;

/** Go duration, the pattern of `sync.interval` (and of the GitRepository's and Kustomization's `interval`). */
const GO_DURATION = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;
/** `spec.url` of the GitRepository CRD. */
const GIT_REPOSITORY_URL = /^(http|https|ssh):\/\/.*$/;

const string: Fact = { type: "string" };
const boolean: Fact = { type: "boolean" };
const unchecked: Fact = { type: "unchecked", of: "object" };

export const FLUX_COMPONENT_NAMES = [
  "source-controller",
  "kustomize-controller",
  "helm-controller",
  "notification-controller",
  "image-reflector-controller",
  "image-automation-controller",
  "source-watcher",
] as const;

export const FLUX_INSTANCE_FACTS: Fact = {
  type: "object",
  properties: {
    apiVersion: string,
    kind: string,
    metadata: {
      type: "object",
      properties: {
        name: { type: "string", minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN },
        namespace: { type: "string", minLength: 1, maxLength: 63, pattern: DNS_LABEL },
        labels: { type: "map", values: string },
        annotations: { type: "map", values: string },
      },
      required: ["name", "namespace"],
    },
    spec: {
      type: "object",
      properties: {
        cluster: {
          type: "object",
          properties: {
            domain: string,
            multitenant: boolean,
            multitenantWorkloadIdentity: boolean,
            networkPolicy: boolean,
            objectLevelWorkloadIdentity: boolean,
            size: { type: "string", enum: ["small", "medium", "large"] },
            tenantDefaultDecryptionServiceAccount: string,
            tenantDefaultKubeConfigServiceAccount: string,
            tenantDefaultServiceAccount: string,
            type: { type: "string", enum: ["kubernetes", "openshift", "aws", "azure", "gcp"] },
          },
        },
        commonMetadata: unchecked,
        components: { type: "array", items: { type: "string", enum: FLUX_COMPONENT_NAMES } },
        distribution: {
          type: "object",
          properties: {
            artifact: { type: "string", pattern: /^oci:\/\/.*$/ },
            artifactPullSecret: string,
            imagePullSecret: string,
            registry: string,
            variant: {
              type: "string",
              enum: ["upstream-alpine", "enterprise-alpine", "enterprise-distroless", "enterprise-distroless-fips"],
            },
            version: string,
          },
          required: ["registry", "version"],
        },
        kustomize: unchecked,
        migrateResources: boolean,
        sharding: unchecked,
        storage: unchecked,
        sync: {
          type: "object",
          properties: {
            interval: { type: "string", pattern: GO_DURATION },
            kind: { type: "string", enum: ["OCIRepository", "GitRepository", "Bucket"] },
            name: { type: "string", maxLength: 63 },
            path: string,
            provider: { type: "string", enum: ["generic", "aws", "azure", "gcp", "github"] },
            pullSecret: string,
            ref: string,
            url: string,
          },
          required: ["kind", "path", "ref", "url"],
        },
        wait: boolean,
      },
      required: ["distribution"],
    },
    status: unchecked,
  },
};

/** git check-ref-format, as source-controller needs for `ref.name`: `refs/<kind>/<name>`. */
function isFullGitRef(ref: string): boolean {
  const parts = ref.split("/");
  return (
    parts[0] === "refs" &&
    parts.length >= 3 &&
    !parts.some((p) => p === "" || p.startsWith(".") || p.endsWith(".lock")) &&
    !ref.includes("..") &&
    !ref.includes("@{") &&
    !ref.endsWith(".") &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused by git.
    !/[\x00-\x20\x7f~^:?*[\\]/.test(ref)
  );
}

/**
 * The problems of a FluxInstance manifest against the v0.58.1 CRD (served version, fields, types,
 * enums, patterns, required fields), its CEL rules (name `flux`; `github` provider only with
 * GitRepository, `gcp` only with OCIRepository/Bucket), and what `sync` must be for the GitRepository
 * and Kustomization it becomes. Empty when valid. Each problem starts with `FluxInstance <name>:`.
 */
export function checkAgainstFluxCrd(manifest: unknown): string[] {
  if (!isRecord(manifest)) return ["manifest: expected object"];
  const label = manifestLabel(manifest);
  if (manifest.kind !== "FluxInstance") return [`${label}: kind must be FluxInstance (${FLUX_CRD_SOURCE})`];
  const problems: string[] = [];
  const apiVersion = unservedApiVersion(manifest.apiVersion, FLUX_INSTANCE_CRD, "the CRD");
  if (apiVersion) problems.push(apiVersion);
  walk(manifest, FLUX_INSTANCE_FACTS, "", problems);
  // CEL on the object: the only accepted name.
  if (isRecord(manifest.metadata) && manifest.metadata.name !== "flux") {
    problems.push(".metadata.name: the only accepted name for a FluxInstance is 'flux'");
  }
  const spec = isRecord(manifest.spec) ? manifest.spec : {};
  const sync = isRecord(spec.sync) ? spec.sync : undefined;
  if (sync) {
    if (sync.provider === "gcp" && sync.kind === "GitRepository") {
      problems.push(".spec.sync.provider: 'gcp' is only supported for OCIRepository and Bucket");
    }
    if (sync.provider === "github" && sync.kind !== "GitRepository") {
      problems.push(".spec.sync.provider: 'github' is only supported for GitRepository");
    }
    if (sync.kind === "GitRepository") {
      if (typeof sync.url === "string" && !GIT_REPOSITORY_URL.test(sync.url)) {
        problems.push(`.spec.sync.url: "${sync.url}" is refused by the GitRepository (pattern ${GIT_REPOSITORY_URL})`);
      }
      if (typeof sync.ref === "string" && !isFullGitRef(sync.ref)) {
        problems.push(
          `.spec.sync.ref: "${sync.ref}" becomes the GitRepository's ref.name, which must be a full Git reference such as refs/heads/main`,
        );
      }
      if (
        sync.pullSecret !== undefined &&
        (typeof sync.pullSecret !== "string" || !DNS_SUBDOMAIN.test(sync.pullSecret))
      ) {
        problems.push(".spec.sync.pullSecret: becomes the GitRepository's secretRef.name, a Secret name");
      }
    }
    if (typeof sync.path === "string" && (sync.path.startsWith("/") || sync.path.split("/").includes(".."))) {
      problems.push(`.spec.sync.path: "${sync.path}" must be relative to the repository root, without '..'`);
    }
  }
  const components = Array.isArray(spec.components) ? spec.components : [];
  if (new Set(components).size !== components.length) problems.push(".spec.components: lists a controller twice");
  return labelled(label, problems);
}
