/**
 * The stack configuration as the Pulumi program sees it: every `castle:` key of the running stack,
 * validated with the same schema and cross-stack rules as `castle check`.
 */
import * as pulumi from "@pulumi/pulumi";
import { CASTLE_NAMESPACE, validateStack } from "./load";
import type { CastleConfig } from "./schema";

/** Pulumi hands structured config over as JSON text and plain values as text. */
function decode(value: string): unknown {
  const trimmed = value.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  if (value === "true" || value === "false") return value === "true";
  if (/^-?\d+(\.\d+)?$/.test(value) && !/^\d+\.\d+\.\d+$/.test(value)) return Number(value);
  return value;
}

/**
 * Reads and validates the running stack's `castle:` keys. `projectDir` (default: the working directory,
 * which Pulumi sets to the project) holds the other stacks' files for the cross-stack rules.
 */
export function loadCastleConfig(projectDir = process.cwd()): CastleConfig {
  const stack = pulumi.getStack();
  const raw: Record<string, unknown> = {};
  const foreign: Record<string, unknown> = {};
  const secureKeys = new Set<string>();
  // Not in the SDK's typings, but exported by its runtime: whether Pulumi holds a key as a secret.
  const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(`${CASTLE_NAMESPACE}:`)) {
      const name = key.slice(CASTLE_NAMESPACE.length + 1);
      if (isSecret?.(key)) secureKeys.add(name);
      else raw[name] = decode(value);
    } else if (isSecret?.(key)) {
      foreign[key] = { secure: "" };
    } else {
      foreign[key] = decode(value);
    }
  }
  return validateStack(stack, `stack config of "${stack}"`, raw, projectDir, { foreign, secureKeys });
}
