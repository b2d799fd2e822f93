/**
 * Reading one stack file the two ways the castle reads it: as `castle check` does (the YAML file) and as
 * the program does (the text the Pulumi CLI hands it, under the mock runtime). Both must agree.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { CASTLE_NAMESPACE, CastleConfigError, loadStackFile, pulumiConfigTexts } from "../../config/load";
import { loadCastleConfig } from "../../config/pulumi-config";
import { startMocks } from "../../offline/mock-runtime";

/** A validated configuration, or the problems that refused it. */
export type Outcome = { config: unknown } | { problems: { key: string; message: string }[] };

function outcome(read: () => unknown): Outcome {
  try {
    return { config: read() };
  } catch (error) {
    if (error instanceof CastleConfigError) return { problems: error.problems };
    throw error;
  }
}

/** Writes `source` as `Pulumi.<stack>.yaml` in `dir`, then reads it both ways. */
export function readBothWays(dir: string, stack: string, source: string): { byCheck: Outcome; byProgram: Outcome } {
  writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), source);
  const byCheck = outcome(() => loadStackFile(dir, stack));
  const config = Object.fromEntries(
    Object.entries(pulumiConfigTexts(source)).map(([key, text]) => [
      key.includes(":") ? key : `${CASTLE_NAMESPACE}:${key}`,
      text,
    ]),
  );
  startMocks({ stack, config });
  const byProgram = outcome(() => loadCastleConfig(dir));
  return { byCheck, byProgram };
}
