/**
 * The stack configuration as the Pulumi program sees it: every `castle:` key of the running stack,
 * validated with the same schema and cross-stack rules as `castle check`.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { CASTLE_NAMESPACE, fromPulumiConfigText, stackFileName, validateStack, writtenNumbers } from "./load";
import type { CastleConfig } from "./schema";

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
      else raw[name] = fromPulumiConfigText(value);
    } else if (isSecret?.(key)) {
      foreign[key] = { secure: "" };
    } else {
      foreign[key] = fromPulumiConfigText(value);
    }
  }
  // The stack file, when it is here, only for messages that quote a number as it was written.
  const file = path.join(projectDir, stackFileName(stack));
  const written = existsSync(file) ? writtenNumbers(readFileSync(file, "utf8")) : undefined;
  return validateStack(stack, `stack config of "${stack}"`, raw, projectDir, { foreign, secureKeys, written });
}
