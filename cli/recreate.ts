/**
 * `castle recreate <stack> [--yes]`: recreate, don't repair. `pulumi destroy` then `pulumi up` for one
 * stack, through Pulumi's Automation API (the Pulumi CLI must be installed), after a pre-flight (the
 * stack file passes `check`, the secrets come from Infisical as `doctor` checks them), a confirmation,
 * and a check that the other color keeps the service up when the stack asks for that: its last update
 * left it healthy and its Kubernetes API answers now. Nothing is destroyed unless all of these pass; a
 * status that cannot be read stops it too, for any stack.
 *
 * The destroy refreshes first (bpg's VM delete works on the node held in state, and a refresh moves
 * that to where the VM runs now: bpg/terraform-provider-proxmox v0.111.1 proxmoxtf/resource/vm/vm.go
 * `vmRead`, `vmDelete`) and runs with PULUMI_K8S_DELETE_UNREACHABLE=true, so the objects of a cluster
 * that no longer answers leave the state instead of failing the run; the up after it runs without.
 */

import { createInterface } from "node:readline/promises";
import { CastleConfigError, listStacks, loadStackFile } from "../config/load";
import { wholeLines } from "./deploy";
import type { CliIo } from "./doctor";
import { httpAnswers } from "./reach";
import type { BackendStack } from "./status";

/** What the program knows of one stack's deployment. */
export interface StackStatus {
  stack: string;
  /** It has resources: its last update left outputs. */
  deployed: boolean;
  /** Its last update succeeded and reported a healthy cluster. */
  healthy: boolean;
  /** Its Kubernetes API endpoint, as its last update recorded it. */
  endpoint?: string;
  /** Why its Kubernetes API does not answer now; set by the pre-flight's live check. */
  notAnswering?: string;
}

/** The operations recreate needs, so the decisions can be tested without a Pulumi CLI. */
export interface StackOperations {
  /** Throws when the status cannot be read: never "not deployed" on an error. */
  status(stack: string): Promise<StackStatus>;
  /** Why the Kubernetes API at `endpoint` does not answer now, or undefined when it does. */
  apiAnswers(endpoint: string): Promise<string | undefined>;
  /** `pulumi destroy --refresh`, with PULUMI_K8S_DELETE_UNREACHABLE=true for this run only. */
  destroy(stack: string, log: (line: string) => void): Promise<void>;
  up(stack: string, log: (line: string) => void): Promise<void>;
}

export interface RecreateDecisionInput {
  stack: string;
  /** castle:guards.keepOneColorUp of the stack: some color must always serve. */
  keepOneColorUp: boolean;
  /** Status of this stack and of every other stack of the project. */
  statuses: StackStatus[];
}

/** Why recreating would be refused, or undefined when it may go ahead. */
export function recreateRefusal({ stack, keepOneColorUp, statuses }: RecreateDecisionInput): string | undefined {
  if (!keepOneColorUp) return undefined;
  const self = statuses.find((s) => s.stack === stack);
  if (!self?.deployed) return undefined; // nothing serving is taken away
  const others = statuses.filter((s) => s.stack !== stack && s.deployed && s.healthy && !s.notAnswering);
  if (others.length > 0) return undefined;
  const known = statuses.filter((s) => s.stack !== stack);
  const state = (s: StackStatus) =>
    !s.deployed
      ? "not deployed"
      : !s.healthy
        ? "deployed but not healthy"
        : `healthy at its last update, but its Kubernetes API does not answer now (${s.notAnswering})`;
  const why = known.length === 0 ? "there is no other stack" : known.map((s) => `${s.stack} is ${state(s)}`).join(", ");
  return (
    `refusing to recreate "${stack}": castle:guards.keepOneColorUp is set and destroying it would leave no healthy color (${why}). ` +
    `Bring another color up first (e.g. pulumi up --stack ${known[0]?.stack ?? "green"}), then cut over and recreate.`
  );
}

export interface RecreateIo {
  out(line: string): void;
  err(line: string): void;
  /** Asks the user to type something; undefined when there is no terminal to ask. */
  ask?(question: string): Promise<string>;
  now(): number;
}

/** The pre-flight: true when the stack may be destroyed (it printed why not otherwise). */
export type Preflight = (stack: string, io: RecreateIo) => Promise<boolean>;

/**
 * The real pre-flight: `castle doctor` (check, then every secret fetched from Infisical and validated),
 * then the guard's Proxmox read: the cluster's nodes and VMs, listed with the castle's token. A Proxmox
 * that cannot be read, or a VM the castle did not create on one of the stack's IDs, would stop the `up`
 * after the destroy; here it stops recreate before. Castle VMs marked with another key are expected:
 * the destroy removes them.
 */
export function doctorPreflight(projectDir: string, env: NodeJS.ProcessEnv): Preflight {
  return async (stack, io) => {
    const { doctor } = require("./doctor") as typeof import("./doctor");
    const doctorIo: CliIo = { out: io.out, err: io.err, env };
    if ((await doctor(projectDir, stack, doctorIo)) !== 0) return false;
    return proxmoxPreflight(projectDir, stack, env, io);
  };
}

async function proxmoxPreflight(
  projectDir: string,
  stack: string,
  env: NodeJS.ProcessEnv,
  io: RecreateIo,
): Promise<boolean> {
  const { withHostOverrides } = require("../config/overrides") as typeof import("../config/overrides");
  const { credentialsFromEnv } =
    require("../config/infisical-credentials") as typeof import("../config/infisical-credentials");
  const { fetchCastleSecrets } = require("../config/infisical") as typeof import("../config/infisical");
  const { listProxmoxCluster } = require("../config/proxmox-api") as typeof import("../config/proxmox-api");
  const { foreignVmProblems, observeCastleVms, proxmoxReadFailure } =
    require("../config/running-castle") as typeof import("../config/running-castle");
  const config = withHostOverrides(stack, loadStackFile(projectDir, stack), env);
  io.out(`reading the Proxmox cluster at ${config.proxmox.endpoint} (nodes, and the VMs on each) ...`);
  try {
    const values = await fetchCastleSecrets(config.infisical, credentialsFromEnv(env));
    let cluster: Awaited<ReturnType<typeof listProxmoxCluster>>;
    try {
      cluster = await listProxmoxCluster({
        endpoint: config.proxmox.endpoint,
        tokenId: values.proxmoxTokenId,
        tokenSecret: values.proxmoxTokenSecret,
        insecure: config.proxmox.insecureSkipTlsVerify,
      });
    } catch (error) {
      throw proxmoxReadFailure(stack, config, error);
    }
    const observed = observeCastleVms(stack, config, cluster);
    const foreign = foreignVmProblems(config, observed);
    if (foreign.length > 0) {
      io.err(
        `castle recreate ${stack}: the up after the destroy would be refused:\n${foreign.map((p) => `  - ${p}`).join("\n")}`,
      );
      return false;
    }
    const present = observed.filter((vm) => vm.found).length;
    io.out(
      `proxmox ok: ${present} of the stack's ${observed.length} VM IDs hold castle ${config.clusterName}'s VMs, the others are free`,
    );
    return true;
  } catch (error) {
    io.err((error as Error).message);
    return false;
  }
}

/**
 * The acceptance after `up`: true when the new castle passed (what it found is printed). Kept apart from
 * the pre-flight and the Pulumi operations so that recreate's own steps stay as they are.
 */
export type Verification = (stack: string, io: RecreateIo) => Promise<boolean>;

/** The real acceptance: `castle verify <stack>`, its table printed as the command prints it. */
export function verifyAfterUp(projectDir: string, env: NodeJS.ProcessEnv): Verification {
  return async (stack, io) => {
    const { verify } = require("./verify") as typeof import("./verify");
    return (await verify(projectDir, stack, { json: false }, { out: io.out, err: io.err, env })) === 0;
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * The other colors, each with whether its Kubernetes API answers now: one that was healthy at its last
 * update but no longer answers does not keep the service up. A color with no recorded endpoint cannot
 * be checked, so it does not count either.
 */
async function withLiveCheck(
  stack: string,
  statuses: StackStatus[],
  operations: StackOperations,
): Promise<StackStatus[]> {
  return Promise.all(
    statuses.map(async (s) => {
      if (s.stack === stack || !s.deployed || !s.healthy) return s;
      const notAnswering = s.endpoint === undefined ? "no endpoint recorded" : await operations.apiAnswers(s.endpoint);
      return notAnswering === undefined ? s : { ...s, notAnswering };
    }),
  );
}

export async function recreate(
  projectDir: string,
  stack: string,
  flags: { yes: boolean },
  operations: StackOperations,
  io: RecreateIo,
  preflight: Preflight,
  verification?: Verification,
): Promise<number> {
  const timings: string[] = [];
  const phase = async (label: string, name: string, run: () => Promise<boolean>): Promise<boolean> => {
    const started = io.now();
    io.out(`== ${name}`);
    const ok = await run();
    const took = seconds(io.now() - started);
    io.out(`== ${name}: ${ok ? "done" : "stopped"} in ${took}`);
    timings.push(`${label} ${took}`);
    return ok;
  };

  /** check, the secrets, the status of every stack and, when one color must stay up, the other's API now. */
  const preflightPhase = async (): Promise<boolean> => {
    let keepOneColorUp: boolean;
    try {
      keepOneColorUp = loadStackFile(projectDir, stack).guards.keepOneColorUp;
    } catch (error) {
      if (!(error instanceof CastleConfigError)) throw error;
      io.err(error.message);
      io.err(`castle recreate ${stack}: the stack file does not pass check; nothing was destroyed`);
      return false;
    }
    if (!(await preflight(stack, io))) {
      io.err(`castle recreate ${stack}: the pre-flight failed (see above); nothing was destroyed`);
      return false;
    }
    let statuses: StackStatus[];
    try {
      statuses = await Promise.all(listStacks(projectDir).map((name) => operations.status(name)));
    } catch (error) {
      io.err(
        `castle recreate ${stack}: cannot read the stacks' status: ${(error as Error).message}. Nothing was destroyed`,
      );
      return false;
    }
    if (keepOneColorUp) statuses = await withLiveCheck(stack, statuses, operations);
    const refusal = recreateRefusal({ stack, keepOneColorUp, statuses });
    if (refusal) {
      io.err(refusal);
      return false;
    }
    return true;
  };

  /** The user typed the stack's name, or passed --yes. */
  const confirmed = async (): Promise<boolean> => {
    if (flags.yes) return true;
    if (!io.ask) {
      io.err(`castle recreate ${stack}: no terminal to confirm on; pass --yes to destroy and recreate without asking`);
      return false;
    }
    const typed = await io.ask(
      `This destroys every resource of stack "${stack}" (its VMs, etcd and all data in the cluster) and creates it again.\nType the stack name to confirm: `,
    );
    if (typed.trim() !== stack) {
      io.err(`not confirmed ("${typed.trim()}" is not "${stack}"); nothing was changed`);
      return false;
    }
    return true;
  };

  /** One Pulumi operation on the stack; on failure, says what state it left and what to do. */
  const pulumiPhase = async (name: "destroy" | "up"): Promise<boolean> =>
    phase(name, `pulumi ${name} --stack ${stack}`, async () => {
      try {
        await operations[name](stack, io.out);
        return true;
      } catch (error) {
        io.err(`pulumi ${name} of stack "${stack}" failed: ${(error as Error).message}`);
        io.err(
          name === "destroy"
            ? "Nothing was created. Fix the cause and run castle recreate again; pulumi destroy is safe to repeat."
            : "The old cluster is gone. Fix the cause and run pulumi up (or castle recreate) again.",
        );
        return false;
      }
    });

  if (!(await phase("pre-flight", "pre-flight (check, secrets from Infisical, status of every stack)", preflightPhase)))
    return 1;
  if (!(await confirmed())) return 1;
  if (!(await pulumiPhase("destroy"))) return 1;
  if (!(await pulumiPhase("up"))) return 1;
  if (verification && !(await phase("verify", `castle verify ${stack}`, () => verification(stack, io)))) {
    io.err(
      `castle recreate ${stack}: the castle is up again, but castle verify failed (see above): fix what it names, then run castle verify ${stack}`,
    );
    return 1;
  }
  io.out(`recreated "${stack}": ${timings.join(", ")}`);
  return 0;
}

/** The real operations, through the Automation API against the project's own workspace. */
export function automationOperations(projectDir: string): StackOperations {
  const { cli, selectStack } = require("./pulumi-cli") as typeof import("./pulumi-cli");
  const { cliStatusReader, stackState } = require("./status") as typeof import("./status");
  // One reader and one `pulumi stack ls` for every stack's status.
  let reading: ReturnType<typeof cliStatusReader> | undefined;
  let listing: Promise<BackendStack[]> | undefined;
  return {
    async status(stack) {
      // Any error but "no such stack" (no CLI, backend unreachable) is thrown: never read as "not deployed".
      reading ??= cliStatusReader(projectDir);
      const reader = await reading;
      listing ??= reader.list();
      const listed = (await listing).find((s) => (s.name.split("/").pop() ?? s.name) === stack);
      if (!listed) return { stack, deployed: false, healthy: false };
      const state = await stackState(reader, { ...listed, name: stack }, true);
      if (state.error) throw new Error(`stack "${stack}": ${state.error}`);
      return {
        stack,
        deployed: state.deployed === true,
        healthy: state.healthy === true,
        endpoint: state.endpoint,
      };
    },
    apiAnswers: (endpoint) => kubernetesApiAnswers(endpoint),
    async destroy(stack, log) {
      // The variable reaches the Kubernetes provider of this run only (the provider itself sets no
      // deleteUnreachable, which would override it: pulumi-kubernetes provider.go `Configure`).
      const selected = await selectStack(projectDir, stack, { PULUMI_K8S_DELETE_UNREACHABLE: "true" });
      const output = wholeLines(log);
      await cli(stack, () => selected.destroy({ onOutput: output.write, refresh: true })).finally(output.flush);
    },
    async up(stack, log) {
      const selected = await selectStack(projectDir, stack);
      const output = wholeLines(log);
      await cli(stack, () => selected.up({ onOutput: output.write })).finally(output.flush);
    },
  };
}

/** How long the other color's Kubernetes API has to answer. */
const API_PROBE_TIMEOUT_MS = 5000;

/**
 * Why the Kubernetes API at `endpoint` does not answer now, or undefined when it does: any HTTP answer to
 * an anonymous `GET /readyz` over TLS counts. Talos runs kube-apiserver with `anonymous-auth=false`
 * (siderolabs/talos v1.13.9 internal/app/machined/pkg/controllers/k8s/control_plane_static_pod.go), so a
 * live API answers 401; its certificate is signed by the cluster's own CA, which this probe does not
 * hold, so it is not verified (no credential is sent).
 */
export function kubernetesApiAnswers(endpoint: string, timeoutMs = API_PROBE_TIMEOUT_MS): Promise<string | undefined> {
  return httpAnswers(new URL("/readyz", endpoint), { timeoutMs, rejectUnauthorized: false });
}

/** Asks on the terminal, or undefined when standard input is not one. */
export function terminalAsk(): RecreateIo["ask"] {
  if (!process.stdin.isTTY) return undefined;
  return async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  };
}
