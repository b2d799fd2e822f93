/**
 * Runs the real castle program (index.ts's exported function) once, for a benchmark topology, under the
 * recording mock runtime with the offline provider model, called with ready inputs (as `castle render`
 * does): the Infisical fetch and the guard read are not part of this call; the deployment benchmark
 * models them as a delay before it.
 */
import type { CastleInputs } from "../config/index";
import { secretboxKeyFingerprint } from "../lib/secretbox";
import { type Harness, type MockOptions, settle, startMocks } from "../offline/mock-runtime";
import { offlineMocks } from "../offline/offline-provider";
import { BASE_STACK, dummySecretValues, type Topology, topologyConfig } from "./topologies";

export interface CastleRun {
  harness: Harness;
  outputs: unknown;
}

/** Starts a fresh mock runtime; call `runCastle` with the harness after it. */
export function startCastleMocks(delay?: MockOptions["delay"]): Harness {
  return startMocks(offlineMocks({ stack: BASE_STACK, delay }));
}

/** The ready inputs the program is called with for `topology`. */
export async function castleInputs(topology: Topology): Promise<CastleInputs> {
  const { asPulumiSecrets } = await import("../config/secrets");
  const values = dummySecretValues();
  const config = topologyConfig(topology);
  return {
    stack: BASE_STACK,
    config,
    secrets: asPulumiSecrets(values),
    guarded: { fingerprint: secretboxKeyFingerprint(values.secretboxKey), contract: config.talos.contract },
  };
}

/** Calls the program with `inputs` and waits until every registration and invoke has answered. */
export async function runCastle(inputs: CastleInputs): Promise<unknown> {
  const { default: castle } = await import("../index");
  const outputs = await castle(inputs);
  await settle();
  return outputs;
}
