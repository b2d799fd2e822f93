/**
 * The table of Infisical faults as `castle doctor blue` meets them: each row sets up the local Infisical
 * stand-in (identity, folders, an injected fault) or the environment, runs `main(["doctor", "blue"])` on a
 * copy of Pulumi.blue.yaml whose site URL points at the stand-in, and checks the exit code, the number of
 * requests the stand-in received and what doctor printed. Every row also checks that no secret value and no
 * client secret was printed.
 *
 * Two kinds of rows:
 * - wording rows (`wording: true`) pin doctor's whole stderr and stdout lines verbatim, one row for each
 *   shape of message (credentials missing, 401, 403, 404, 5xx, a reply that is not Infisical's, the
 *   deadline, a missing secret, a malformed secretbox key, the cluster's identity reading the castle's
 *   folder, all well). They exist so that a change of wording is seen and reviewed once per shape.
 * - phrase rows assert what identifies the fault, not its prose: the secret each table line names and one
 *   telling phrase of its status, and the phrases stderr must contain (empty stderr when none are given),
 *   chosen so that the row fails if the fault were reported as another one (a 401 row does not pass on a
 *   403 message). Rewording a message breaks its wording row, not the whole table.
 * A meta-test checks that every row asserts something.
 *
 * The row that waits for the deadline runs with `castle:infisical.timeoutSeconds: 0.4`.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parseDocument } from "yaml";
import { main } from "../cli/castle";
import {
  InfisicalStandIn,
  type StandInFault,
  type StandInGrant,
  type StandInProjects,
  type StandInRoute,
} from "../offline/infisical-stand-in";
import { testSecretboxKey } from "./support/keys";

const ROOT = path.resolve(__dirname, "..");
/** The blue stack's Infisical coordinates (Pulumi.blue.yaml). */
const PROJECT = "4f6c2a8e-7b1d-4c3e-9a5f-2d8b6e1c0a97";
const ENV = "prod";
const PATH = "/castle/blue";
const NAMES = "TALOS_SECRETBOX_KEY, PROXMOX_TOKEN_ID, PROXMOX_TOKEN_SECRET, ESO_CLIENT_ID, ESO_CLIENT_SECRET";

const CLIENT_ID = "castle-doctor-faults";
const CLIENT_SECRET = "SENTINEL-FAULTS-CLIENT-SECRET-77b1";
const WRONG_CLIENT_SECRET = "SENTINEL-FAULTS-WRONG-SECRET-0c3d";
/** An access token given as INFISICAL_TOKEN that a faulty reply repeats; never printed. */
const ACCESS_TOKEN = "SENTINEL-FAULTS-ACCESS-TOKEN-9f3a";
/** The Git token in the cluster's folder (castle:gitops.credentials.token of blue): ESO's, never printed. */
const GIT_TOKEN = "SENTINEL-FAULTS-GIT-TOKEN-5e1";
const VALUES = {
  TALOS_SECRETBOX_KEY: testSecretboxKey("faults"),
  PROXMOX_TOKEN_ID: "sentinel-faults@pve!faultstoken",
  PROXMOX_TOKEN_SECRET: "SENTINEL-FAULTS-PVE-SECRET-3a90",
  ESO_CLIENT_ID: "SENTINEL-FAULTS-ESO-ID-51e2",
  ESO_CLIENT_SECRET: "SENTINEL-FAULTS-ESO-SECRET-c6f8",
};
type SecretName = keyof typeof VALUES;
const ROLE: Record<SecretName, string> = {
  TALOS_SECRETBOX_KEY: "secretboxKey",
  PROXMOX_TOKEN_ID: "proxmoxTokenId",
  PROXMOX_TOKEN_SECRET: "proxmoxTokenSecret",
  ESO_CLIENT_ID: "esoClientId",
  ESO_CLIENT_SECRET: "esoClientSecret",
};
const ENV_OK = { INFISICAL_CLIENT_ID: CLIENT_ID, INFISICAL_CLIENT_SECRET: CLIENT_SECRET };
const GRANT: StandInGrant = { projectId: PROJECT, environment: ENV, paths: [PATH] };
/** The cluster's folder (castle:eso.secretsPath of Pulumi.blue.yaml) and its identity, which may read only it. */
const APPS = "/apps/blue";
const ESO_IDENTITY_ID = "identity-cluster-blue";
const ESO_IDENTITY = {
  identityId: ESO_IDENTITY_ID,
  clientId: VALUES.ESO_CLIENT_ID,
  clientSecret: VALUES.ESO_CLIENT_SECRET,
  grants: [{ projectId: PROJECT, environment: ENV, paths: [APPS] }],
};
const GENERATE = "generate one with: openssl rand -base64 32";
const MISSING = "missing: no secret with this name in that folder (imports are not searched)";
/** A 32-byte key whose standard base64 has '+' and '/', so its URL-safe form has '-' and '_'. */
const URL_SAFE_KEY = Buffer.alloc(32, 0xfb).toString("base64url");

/** One line of doctor's per-secret table (default secret names: the widths are those of the longest). */
const tableLine = (name: SecretName, status: string) => `${name.padEnd(20)}  ${ROLE[name].padEnd(18)}  ${status}`;
const allLines = (status: string) => (Object.keys(VALUES) as SecretName[]).map((name) => tableLine(name, status));
const where = (site: string) => `project ${PROJECT}, environment "${ENV}", path "${PATH}" at ${site}`;
/** doctor's error text for a failed login or list: what happened, where, and the next step. */
const failure = (site: string, what: string, next: string) =>
  `${/^Infisical\b/.test(what) ? what : `Infisical: ${what}`}\n  while fetching ${NAMES} from ${where(site)}\n  next: ${next}`;
const NEXT_DEADLINE =
  "check the site URL and the network path to Infisical; raise castle:infisical.timeoutSeconds if the instance is slow";
const NEXT_NOT_FOUND =
  "check castle:infisical.projectId (the project id, not its slug), environment (the slug) and secretPath; the site URL must be the region that hosts the project";
const NEXT_SERVER =
  "run again later; check the Infisical status page, or the logs of a self-hosted instance or of a proxy in front of it";
const NEXT_NOT_INFISICAL =
  "check the site URL: it must be the root of an Infisical instance (without /api), not a proxy or login page";

/** Text that must appear: a string by `includes`, a RegExp by `test`. */
type Phrase = string | RegExp;
/** A stdout line of the per-secret table: the line that starts with `name` and says every phrase. */
const secret = (name: SecretName, ...phrases: Phrase[]): Phrase[] => [new RegExp(`^${name} `), ...phrases];
/** The table's line for a secret that is fine. */
const ok = (name: SecretName) => secret(name, / ok$/);
/** The table when Infisical failed before any secret was looked at. */
const unchecked = () => (Object.keys(VALUES) as SecretName[]).map((name) => secret(name, /not checked$/));

/** How a fault is set up and what identifies it whatever the wording. */
interface Setup {
  name: string;
  /** Secrets in blue's folder; default VALUES. Ignored when `projects` is given. */
  secrets?: Partial<Record<SecretName, string>>;
  /** The stand-in's whole store, instead of blue's folder holding `secrets`. */
  projects?: StandInProjects;
  /** What the castle's identity may read; default blue's folder. */
  grants?: StandInGrant[];
  /** What the cluster's identity may read; default its own folder. */
  esoGrants?: StandInGrant[];
  faults?: Partial<Record<StandInRoute, StandInFault>>;
  /** The environment doctor reads; default ENV_OK. `site` is the stand-in's URL. */
  env?: (site: string) => NodeJS.ProcessEnv;
  /** Where the stack's castle:infisical.siteUrl points; default the stand-in. */
  stackSite?: "stand-in" | "closed port";
  /** castle:infisical.timeoutSeconds; default 10 (never reached), 0.4 for the row that waits for the deadline. */
  timeoutSeconds?: number;
  /** Also write Pulumi.green.yaml (same Infisical project and environment, castle folder /castle/green). */
  withGreen?: boolean;
  code: 0 | 1;
  /** Requests the stand-in received. */
  requests: number;
}

/** A wording row: doctor's text verbatim, one row per shape of message. */
interface WordingRow extends Setup {
  wording: true;
  /** Lines doctor must print on stdout, verbatim; `site` is the site it talks to. */
  out: (site: string) => string[];
  /** doctor's whole stderr, exact. */
  err: (site: string) => string;
}

/** A phrase row: what identifies the fault, not its prose. */
interface PhraseRow extends Setup {
  wording?: undefined;
  /** For each entry, some stdout line that contains every phrase of it (a secret's name and its status). */
  out?: Phrase[][];
  /** Phrases doctor's stderr must contain, chosen so that another fault's message lacks one; absent: stderr is empty. */
  says?: Phrase[];
}

type Row = WordingRow | PhraseRow;

const rows: Row[] = [
  {
    name: "every secret present and valid",
    wording: true,
    code: 0,
    out: (site) => [
      `secrets: project ${PROJECT}, environment "${ENV}", path "${PATH}" at ${site}`,
      ...allLines("ok"),
      "2 HTTP requests",
      "all 5 secrets ok",
      `cluster identity (ESO_CLIENT_ID/ESO_CLIENT_SECRET): may read ${APPS}, must not read ${PATH}`,
      `  own folder     ${APPS}: listed (1 secret)`,
      `  castle folder  ${PATH}: refused (HTTP 403)`,
      "3 HTTP requests",
      "the cluster's identity reads its own folder only",
    ],
    err: () => "",
    requests: 5,
  },
  {
    name: "the cluster's identity can list the castle's folder",
    wording: true,
    esoGrants: [{ projectId: PROJECT, environment: ENV, paths: [APPS, PATH] }],
    code: 1,
    out: () => [
      `  own folder     ${APPS}: listed (1 secret)`,
      `  castle folder  ${PATH}: listed (5 secrets, values hidden)`,
      "3 HTTP requests",
    ],
    err: (site) =>
      `castle doctor: the cluster's identity ${ESO_IDENTITY_ID} (credentials ESO_CLIENT_ID/ESO_CLIENT_SECRET) can list the castle's folder ${PATH} ` +
      `(project ${PROJECT}, environment "${ENV}" at ${site}): any namespace allowed to use the ClusterSecretStore could copy the secretbox key, ` +
      "the Proxmox token and ESO's own credentials with one ExternalSecret (a key starting with / is read as an absolute path). " +
      `In Infisical (Project > Access Control > Machine Identities), give identity ${ESO_IDENTITY_ID} a role whose secret permissions carry ` +
      `the condition "Secret Path" equal to ${APPS} (or a glob below it), and no other role or additional privilege that reaches ${PATH}. ` +
      "Then run castle doctor blue again.",
    requests: 5,
  },

  // --- the walls between colors --------------------------------------------------------------------
  {
    name: "the cluster's identity is refused on the other color's castle folder",
    withGreen: true,
    code: 0,
    out: [
      ["must not read the other colors' castle folders: /castle/green (green)"],
      ["other castle   /castle/green: refused (HTTP 403)"],
      ["4 HTTP requests"],
      ["reads its own folder only"],
    ],
    requests: 6,
  },
  {
    name: "the cluster's identity can list the other color's castle folder",
    withGreen: true,
    esoGrants: [{ projectId: PROJECT, environment: ENV, paths: [APPS, "/castle/green"] }],
    projects: {
      [PROJECT]: {
        [ENV]: {
          [PATH]: Object.entries(VALUES).map(([key, value]) => ({ key, value })),
          [APPS]: [{ key: "FLUX_GIT_TOKEN", value: GIT_TOKEN }],
          "/castle/green": [{ key: "TALOS_SECRETBOX_KEY", value: testSecretboxKey("green-castle") }],
        },
      },
    },
    code: 1,
    out: [["other castle   /castle/green: listed (1 secret, values hidden)"]],
    says: ['can list the castle folder /castle/green of stack "green"', "secretbox key and Proxmox token"],
    requests: 6,
  },
  {
    name: "the cluster's folder holds a key of the castle's folder",
    projects: {
      [PROJECT]: {
        [ENV]: {
          [PATH]: Object.entries(VALUES).map(([key, value]) => ({ key, value })),
          [APPS]: [
            { key: "FLUX_GIT_TOKEN", value: GIT_TOKEN },
            { key: "PROXMOX_TOKEN_SECRET", value: "SENTINEL-COPIED-PVE-SECRET-1d2e" },
          ],
        },
      },
    },
    code: 1,
    out: [["own folder     /apps/blue: listed (2 secrets)"]],
    says: [
      "the cluster's folder /apps/blue holds PROXMOX_TOKEN_SECRET, which the castle's folder /castle/blue holds too",
    ],
    requests: 5,
  },

  // --- what a failed reply repeats is scrubbed ------------------------------------------------------
  {
    name: "a login reply that repeats the client secret after 190 characters (scrubbed before it is cut)",
    faults: {
      login: {
        kind: "status",
        status: 401,
        body: { statusCode: 401, message: `${"x".repeat(190)}${CLIENT_SECRET}`, error: "UnauthorizedError" },
      },
    },
    code: 1,
    says: ["the machine identity was rejected", "[redacted]"],
    requests: 1,
  },
  {
    name: "a failed list reply that repeats INFISICAL_TOKEN",
    env: () => ({ INFISICAL_TOKEN: ACCESS_TOKEN }),
    faults: {
      list: {
        kind: "status",
        status: 403,
        body: { statusCode: 403, message: `Token ${ACCESS_TOKEN} is not valid`, error: "TokenError" },
      },
    },
    code: 1,
    says: ["did not accept the access token in INFISICAL_TOKEN", "Token [redacted] is not valid"],
    requests: 1,
  },
  {
    name: "the cluster identity's client secret repeated in the login fault of doctor's probe",
    // The program's access token makes no login: the only login is the probe's, as the cluster's identity.
    env: () => ({ INFISICAL_TOKEN: server.issueToken(CLIENT_ID) }),
    faults: {
      login: {
        kind: "status",
        status: 401,
        body: {
          statusCode: 401,
          message: `Invalid credentials for ${VALUES.ESO_CLIENT_SECRET}`,
          error: "UnauthorizedError",
        },
      },
    },
    code: 1,
    says: ["logging in as the cluster's identity", "Invalid credentials for [redacted]"],
    requests: 2,
  },

  // --- the environment ------------------------------------------------------------------------------
  {
    name: "INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET not set",
    wording: true,
    env: () => ({}),
    code: 1,
    out: () => ["stack blue (Pulumi.blue.yaml): ok"],
    err: () =>
      "castle doctor: Infisical credentials missing: INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET are not set (or empty). " +
      "Export the Universal Auth client id and client secret of the castle's machine identity as INFISICAL_CLIENT_ID and " +
      "INFISICAL_CLIENT_SECRET (Infisical: Organization > Access Control > Identities), " +
      "or a short-lived access token of that identity as INFISICAL_TOKEN.",
    requests: 0,
  },
  {
    name: "INFISICAL_CLIENT_SECRET empty",
    env: () => ({ INFISICAL_CLIENT_ID: CLIENT_ID, INFISICAL_CLIENT_SECRET: "  " }),
    code: 1,
    says: ["credentials missing: INFISICAL_CLIENT_SECRET is not set"],
    requests: 0,
  },
  {
    name: "INFISICAL_SITE_URL over plain http to a remote host",
    env: () => ({ ...ENV_OK, INFISICAL_SITE_URL: "http://infisical.example.org" }),
    code: 1,
    says: ["INFISICAL_SITE_URL: must use https://"],
    requests: 0,
  },
  {
    name: "INFISICAL_SITE_URL on loopback overrides a stack site that is down",
    stackSite: "closed port",
    env: (site) => ({ ...ENV_OK, INFISICAL_SITE_URL: site }),
    code: 0,
    out: [["(from INFISICAL_SITE_URL)"], ["all 5 secrets ok"], ["reads its own folder only"]],
    requests: 5,
  },

  // --- what Infisical answers ---------------------------------------------------------------------------
  {
    name: "bad credentials (401)",
    wording: true,
    env: () => ({ ...ENV_OK, INFISICAL_CLIENT_SECRET: WRONG_CLIENT_SECRET }),
    code: 1,
    out: () => [...allLines("not checked"), "1 HTTP request"],
    err: (site) =>
      failure(
        site,
        'the machine identity was rejected while logging in (Universal Auth) (HTTP 401: "Invalid credentials")',
        "check INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET: the client secret may be wrong, revoked, expired or used up, " +
          "Universal Auth must be enabled for the identity, and the site URL must be the region where the identity lives (EU and US are separate)",
      ),
    requests: 1,
  },
  {
    name: "no access to the folder (403)",
    wording: true,
    grants: [{ projectId: PROJECT, environment: ENV, paths: ["/castle/green"] }],
    code: 1,
    out: () => [...allLines("not checked"), "2 HTTP requests"],
    err: (site) =>
      failure(
        site,
        'the machine identity is not allowed to read these secrets (HTTP 403: "You are not allowed to read on secrets")',
        "add the identity to the project with a role that may read secret values in that environment and path",
      ),
    requests: 2,
  },
  {
    name: "access token refused after the login (403 TokenError)",
    faults: {
      list: {
        kind: "status",
        status: 403,
        body: {
          reqId: "req-abcdefghijklmn",
          statusCode: 403,
          message: "Your token has expired. Please re-authenticate.",
          error: "TokenError",
        },
      },
    },
    code: 1,
    out: unchecked(),
    says: ["did not accept the access token from the login", "HTTP 403", "access token TTL"],
    requests: 2,
  },
  {
    name: "project missing (404)",
    wording: true,
    projects: {},
    code: 1,
    out: () => [...allLines("not checked"), "2 HTTP requests"],
    err: (site) =>
      failure(
        site,
        `Infisical found no such project, environment or folder while listing the secrets (HTTP 404: "Project with ID '${PROJECT}' not found")`,
        NEXT_NOT_FOUND,
      ),
    requests: 2,
  },
  {
    name: "environment missing (404)",
    projects: { [PROJECT]: { dev: { [PATH]: [] } } },
    code: 1,
    out: unchecked(),
    says: ["no such project, environment or folder", `HTTP 404: "Folder with path '${PATH}' in environment '${ENV}'`],
    requests: 2,
  },
  {
    name: "folder missing (404)",
    projects: { [PROJECT]: { [ENV]: { "/castle": [] } } },
    code: 1,
    out: unchecked(),
    says: ["no such project, environment or folder", `HTTP 404: "Folder with path '${PATH}' in environment '${ENV}'`],
    requests: 2,
  },
  {
    name: "server error with Infisical's JSON body (500)",
    wording: true,
    faults: {
      list: {
        kind: "status",
        status: 500,
        body: {
          reqId: "req-abcdefghijklmn",
          statusCode: 500,
          message: "Something went wrong",
          error: "InternalServerError",
        },
      },
    },
    code: 1,
    out: () => [...allLines("not checked"), "2 HTTP requests"],
    err: (site) =>
      failure(
        site,
        'Infisical answered with a server error while listing the secrets (HTTP 500: "Something went wrong")',
        NEXT_SERVER,
      ),
    requests: 2,
  },
  {
    name: "a proxy's HTML error page (502)",
    faults: { login: { kind: "html", status: 502 } },
    code: 1,
    out: unchecked(),
    says: ["server error while logging in", "HTTP 502, not an Infisical JSON reply"],
    requests: 1,
  },
  {
    name: "200 with an HTML page instead of the secrets",
    wording: true,
    faults: { list: { kind: "non-json" } },
    code: 1,
    out: () => [...allLines("not checked"), "2 HTTP requests"],
    err: (site) =>
      failure(
        site,
        "the list reply is not what Infisical returns: a text body instead of a JSON object",
        NEXT_NOT_INFISICAL,
      ),
    requests: 2,
  },
  {
    name: "200 login reply without an access token",
    faults: { login: { kind: "status", status: 200, body: {} } },
    code: 1,
    out: unchecked(),
    says: ["login reply carried no access token"],
    requests: 1,
  },

  // --- the deadline (one row: each deadline fault is tested once, in infisical.test.ts) ------------------------------------------------------------------
  {
    name: "unreachable host (closed port) fails at once, before logging in",
    stackSite: "closed port",
    timeoutSeconds: 1,
    code: 1,
    out: [["connecting to 127.0.0.1:"]],
    says: ["is unreachable", "(connection refused)"],
    requests: 0,
  },
  {
    name: "login accepted but never answered (no headers)",
    wording: true,
    faults: { login: { kind: "hang" } },
    timeoutSeconds: 0.4,
    code: 1,
    out: () => [...allLines("not checked"), "1 HTTP request"],
    err: (site) =>
      failure(
        site,
        "timeout: no complete answer within 0.4 s while logging in (Universal Auth) (no answer yet; 1 request(s) sent)",
        NEXT_DEADLINE,
      ),
    requests: 1,
  },
  // --- the secrets themselves ------------------------------------------------------------------------------
  {
    name: "one secret missing",
    wording: true,
    secrets: { ...VALUES, PROXMOX_TOKEN_SECRET: undefined },
    code: 1,
    out: () => [
      tableLine("TALOS_SECRETBOX_KEY", "ok"),
      tableLine("PROXMOX_TOKEN_SECRET", MISSING),
      "2 HTTP requests",
      "1 of 5 secrets need attention: create or fix them in Infisical, or set castle:infisical.secretNames",
    ],
    err: () => "",
    requests: 2,
  },
  {
    name: "several secrets missing",
    secrets: { TALOS_SECRETBOX_KEY: VALUES.TALOS_SECRETBOX_KEY, PROXMOX_TOKEN_SECRET: VALUES.PROXMOX_TOKEN_SECRET },
    code: 1,
    out: [
      ok("TALOS_SECRETBOX_KEY"),
      secret("PROXMOX_TOKEN_ID", "missing"),
      ok("PROXMOX_TOKEN_SECRET"),
      secret("ESO_CLIENT_ID", "missing"),
      secret("ESO_CLIENT_SECRET", "missing"),
      ["3 of 5 secrets"],
    ],
    requests: 2,
  },
  {
    name: "an empty folder",
    secrets: {},
    code: 1,
    out: [...(Object.keys(VALUES) as SecretName[]).map((name) => secret(name, "missing")), ["5 of 5 secrets"]],
    requests: 2,
  },
  {
    name: "an empty value",
    secrets: { ...VALUES, ESO_CLIENT_ID: "" },
    code: 1,
    out: [secret("ESO_CLIENT_ID", "is empty"), ok("ESO_CLIENT_SECRET")],
    requests: 2,
  },
  {
    name: "a value pasted with its line break",
    secrets: { ...VALUES, PROXMOX_TOKEN_SECRET: `${VALUES.PROXMOX_TOKEN_SECRET}\n` },
    code: 1,
    out: [secret("PROXMOX_TOKEN_SECRET", "leading or trailing whitespace")],
    requests: 2,
  },
  {
    name: "a value the identity may see but not read",
    projects: {
      [PROJECT]: {
        [ENV]: {
          [PATH]: Object.entries(VALUES).map(([key, value]) => ({
            key,
            value,
            valueHidden: key === "ESO_CLIENT_SECRET",
          })),
        },
      },
    },
    code: 1,
    out: [secret("ESO_CLIENT_SECRET", "value hidden", "Read Value")],
    requests: 2,
  },
  {
    name: "a secretbox key of 16 bytes",
    wording: true,
    secrets: { ...VALUES, TALOS_SECRETBOX_KEY: Buffer.from("SENTINEL-16bytes").toString("base64") },
    code: 1,
    out: () => [tableLine("TALOS_SECRETBOX_KEY", `decodes to 16 bytes, expected exactly 32; ${GENERATE}`)],
    err: () => "",
    requests: 2,
  },
  {
    name: "a secretbox key of 32 zero bytes",
    secrets: { ...VALUES, TALOS_SECRETBOX_KEY: Buffer.alloc(32, 0).toString("base64") },
    code: 1,
    out: [secret("TALOS_SECRETBOX_KEY", "one byte repeated 32 times", "openssl rand -base64 32")],
    requests: 2,
  },
  {
    name: "a secretbox key that is a passphrase (printable text)",
    secrets: { ...VALUES, TALOS_SECRETBOX_KEY: Buffer.from("SENTINEL passphrase of 32 bytes!").toString("base64") },
    code: 1,
    out: [secret("TALOS_SECRETBOX_KEY", "printable text only", "openssl rand -base64 32")],
    requests: 2,
  },
  {
    name: "a secretbox key that is not base64",
    secrets: { ...VALUES, TALOS_SECRETBOX_KEY: "SENTINEL#secretbox#key%not*base64" },
    code: 1,
    out: [secret("TALOS_SECRETBOX_KEY", "is not standard base64")],
    requests: 2,
  },
  {
    name: "a secretbox key in URL-safe base64",
    secrets: { ...VALUES, TALOS_SECRETBOX_KEY: `${URL_SAFE_KEY}=` },
    code: 1,
    out: [secret("TALOS_SECRETBOX_KEY", "URL-safe base64")],
    requests: 2,
  },
  {
    name: "a secretbox key without its = padding",
    secrets: { ...VALUES, TALOS_SECRETBOX_KEY: VALUES.TALOS_SECRETBOX_KEY.replace(/=+$/, "") },
    code: 1,
    out: [secret("TALOS_SECRETBOX_KEY", "is not padded base64", "43")],
    requests: 2,
  },
  {
    name: "a Proxmox token id without '!'",
    secrets: { ...VALUES, PROXMOX_TOKEN_ID: "sentinel-faults@pve" },
    code: 1,
    out: [secret("PROXMOX_TOKEN_ID", "user@realm!tokenname")],
    requests: 2,
  },
  {
    name: "a whole PVEAPIToken header pasted as the token id",
    secrets: {
      ...VALUES,
      PROXMOX_TOKEN_ID: `PVEAPIToken=sentinel-faults@pve!faultstoken=${VALUES.PROXMOX_TOKEN_SECRET}`,
    },
    code: 1,
    out: [secret("PROXMOX_TOKEN_ID", "user@realm!tokenname"), ["1 of 5 secrets"]],
    requests: 2,
  },
];

let server: InfisicalStandIn;
let closedPortSite: string;
const dirs: string[] = [];

/** A loopback URL on which nothing listens. */
async function closedPort(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

before(async () => {
  server = new InfisicalStandIn();
  await server.start();
  closedPortSite = await closedPort();
});

after(async () => {
  await server.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A project holding Pulumi.blue.yaml (and Pulumi.green.yaml) with the given Infisical site and deadline. */
function project(siteUrl: string, timeoutSeconds: number, withGreen = false): string {
  const dir = mkdtempSync(path.join(tmpdir(), "castle-doctor-faults-"));
  dirs.push(dir);
  for (const color of withGreen ? ["blue", "green"] : ["blue"]) {
    const stack = parseDocument(readFileSync(path.join(ROOT, `Pulumi.${color}.yaml`), "utf8"));
    stack.setIn(["config", "castle:infisical", "siteUrl"], siteUrl);
    stack.setIn(["config", "castle:infisical", "timeoutSeconds"], timeoutSeconds);
    writeFileSync(path.join(dir, `Pulumi.${color}.yaml`), stack.toString());
  }
  return dir;
}

/** Whether `text` contains the phrase. */
const says = (text: string, phrase: Phrase) => (typeof phrase === "string" ? text.includes(phrase) : phrase.test(text));

/** Every value this row put in the store and every client secret it used: none may be printed. */
function sentinels(row: Row, env: NodeJS.ProcessEnv): string[] {
  const stored = row.projects
    ? Object.values(row.projects).flatMap((envs) =>
        Object.values(envs).flatMap((folders) => Object.values(folders).flatMap((list) => list.map((s) => s.value))),
      )
    : Object.values(row.secrets ?? VALUES);
  return [...stored, GIT_TOKEN, CLIENT_SECRET, WRONG_CLIENT_SECRET, env.INFISICAL_CLIENT_SECRET, env.INFISICAL_TOKEN]
    .filter((value): value is string => typeof value === "string")
    .map((value) => value.trim())
    .filter((value) => value.length >= 8);
}

describe("castle doctor blue: the table of Infisical faults", () => {
  for (const row of rows) {
    it(`${row.name} -> exit ${row.code}`, async () => {
      const folder = Object.entries(row.secrets ?? VALUES).flatMap(([key, value]) =>
        value === undefined ? [] : [{ key, value }],
      );
      server.identities = [
        { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, grants: row.grants ?? [GRANT] },
        { ...ESO_IDENTITY, grants: row.esoGrants ?? ESO_IDENTITY.grants },
      ];
      server.projects = row.projects ?? {
        [PROJECT]: { [ENV]: { [PATH]: folder, [APPS]: [{ key: "FLUX_GIT_TOKEN", value: GIT_TOKEN }] } },
      };
      server.faults = structuredClone(row.faults ?? {});
      server.requests.length = 0;

      const site = server.siteUrl;
      const stackSite = row.stackSite === "closed port" ? closedPortSite : site;
      const env: NodeJS.ProcessEnv = row.env ? row.env(site) : ENV_OK;
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(["doctor", "blue"], project(stackSite, row.timeoutSeconds ?? 10, row.withGreen), {
        out: (line) => out.push(line),
        err: (line) => err.push(line),
        env,
      });

      // The site doctor talks to: INFISICAL_SITE_URL when set, else the stack's.
      const used = env.INFISICAL_SITE_URL ?? stackSite;
      const printed = [...out, ...err].join("\n");
      for (const [i, value] of sentinels(row, env).entries()) {
        assert.ok(!printed.includes(value), `secret #${i} of this row was printed`);
        // Nor its start: a reply cut before it is scrubbed would leak the first characters at the cut.
        assert.ok(!printed.includes(value.slice(0, 7)), `the start of secret #${i} of this row was printed`);
      }
      const outLines = out.join("\n").split("\n");
      const stderr = err.join("\n");
      if (row.wording) {
        for (const line of row.out(used)) {
          assert.ok(outLines.includes(line), `stdout lacks ${JSON.stringify(line)}:\n${out.join("\n")}`);
        }
        assert.equal(stderr, row.err(used));
      } else {
        for (const phrases of row.out ?? []) {
          assert.ok(
            outLines.some((line) => phrases.every((phrase) => says(line, phrase))),
            `no stdout line says ${phrases.map(String).join(" and ")}:\n${out.join("\n")}`,
          );
        }
        if (row.says === undefined) assert.equal(stderr, "");
        for (const phrase of row.says ?? []) assert.ok(says(stderr, phrase), `stderr lacks ${phrase}:\n${stderr}`);
      }
      assert.equal(code, row.code);
      assert.equal(server.requests.length, row.requests);
    });
  }
});

describe("the table of Infisical faults itself", () => {
  it("every row asserts something beyond its exit code", () => {
    for (const row of rows) {
      if (row.wording) {
        assert.ok(row.out("site").length > 0 || row.err("site") !== "", `${row.name}: a wording row with no text`);
        continue;
      }
      const groups = [...(row.out ?? []), ...(row.says ? [row.says] : [])];
      assert.ok(groups.length > 0, `${row.name}: a phrase row with neither stdout nor stderr phrases`);
      for (const phrases of groups) {
        assert.ok(phrases.length > 0, `${row.name}: an empty list of phrases`);
        for (const phrase of phrases) {
          assert.ok(!says("", phrase), `${row.name}: the phrase ${phrase} matches even an empty text`);
        }
      }
      if (row.code === 1 && row.says === undefined) {
        assert.ok((row.out ?? []).length > 0, `${row.name}: a failure that names neither a secret nor an error`);
      }
    }
  });

  it("about ten wording rows, one per shape of message; every other row names its fault by phrases", () => {
    const wording = rows.filter((row) => row.wording).length;
    assert.ok(wording >= 8 && wording <= 14, `${wording} wording rows`);
    assert.equal(new Set(rows.map((row) => row.name)).size, rows.length, "two rows with one name");
  });
});
