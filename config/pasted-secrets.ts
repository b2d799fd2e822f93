/**
 * Secrets do not belong in a stack file. A value pasted under a key whose name says token, secret,
 * password or key, any Pulumi `secure:` value, and an endpoint URL that carries credentials are refused
 * with a pointer to where the secret belongs (Infisical). The value is never repeated in the message.
 *
 * One home for these rules: `castle check`, `castle render` and the Pulumi program all validate a stack
 * through config/load.ts, which applies them.
 */

import { INFISICAL_ENV } from "./infisical-credentials";
import { type SecretNames, secretNamesOf } from "./schema";

/** Path of a value: below `castle:` (strings and indexes) or a whole key of another namespace. */
export type ValuePath = (string | number)[];

export interface PastedSecret {
  /** Where the value is, below `castle:`; for another namespace, `[fullKey, ...]` with `foreign`. */
  path: ValuePath;
  /** Set when the key is not in the `castle:` namespace (e.g. `proxmoxve:apiToken`). */
  foreign?: boolean;
  message: string;
}

/** A key name that says it holds a secret: token, secret, password or key, in any case or position. */
const SECRET_NAME = /token|secret|passw(or)?d|passphrase|key/i;

function soundsSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** A Pulumi `secure:` value as it appears in a stack file (`{ secure: <ciphertext> }`). */
export function isSecureValue(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as { secure?: unknown }).secure === "string"
  );
}

/**
 * A URL with a user, a password or a token before its host (`https://user:pass@host`,
 * `https://u@pam!t=x@host`), with or without the `//`: WHATWG parsing (`new URL`, as Node, undici and
 * the SDKs read URLs) takes `https:root:pw@host` for `https://root:pw@host`.
 */
export function urlCarriesCredentials(value: string): boolean {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(value)) return false;
  // An SSH URL names the login user before the host (`ssh://git@host/org/repo.git`): a user alone is no
  // secret there, the key is. A password, or a user on any other scheme (where it may be a token), is.
  const sshUserOnly = /^ssh:\/\/[^/?#:@]+@[^/?#@]+([/?#]|$)/i.test(value);
  if (sshUserOnly) return false;
  try {
    const url = new URL(value);
    if (url.username !== "" || url.password !== "") return true;
  } catch {
    // fall through to the plain-text test
  }
  return /^[a-z][a-z0-9+.-]*:(\/\/)?[^/?#]*@/i.test(value) && /^(https?|ssh|git|ftp|wss?):/i.test(value);
}

/** Where the stack reads its secrets from, for the message: the folder and environment if readable. */
function destination(castle: Record<string, unknown>): string {
  const infisical = (castle.infisical ?? {}) as Record<string, unknown>;
  const folder = typeof infisical.secretPath === "string" ? infisical.secretPath : "/";
  const environment = typeof infisical.environment === "string" ? ` of environment "${infisical.environment}"` : "";
  return `folder ${folder}${environment} (castle:infisical.secretPath)`;
}

/** The names the stack reads its secrets by (castle:infisical.secretNames, or the defaults). */
function namesOf(castle: Record<string, unknown>): SecretNames {
  return secretNamesOf((castle.infisical as Record<string, unknown> | undefined)?.secretNames);
}

/** The Proxmox token's names in Infisical, as the stack configures them. */
function proxmoxTokenNames(castle: Record<string, unknown>): string {
  const names = namesOf(castle);
  return `${names.proxmoxTokenId} and ${names.proxmoxTokenSecret}`;
}

/**
 * Where a pasted secret belongs, naming only secrets the program reads: the secretbox key, the Proxmox
 * token, the cluster's ESO credentials (by the stack's castle:infisical.secretNames), the deploy
 * identity's environment variables; any other secret is none of the castle's and goes to the cluster's
 * folder, for an ExternalSecret.
 */
function where(path: ValuePath, foreign: boolean, castle: Record<string, unknown>): string {
  const names = namesOf(castle);
  const key = path.map(String).join(".");
  const inFolder = (what: string) => `secrets are read from Infisical: put ${what} in ${destination(castle)}`;
  if (/secretbox|encryption|etcd/i.test(key)) {
    return `${inFolder("the secretbox key")} as ${names.secretboxKey}`;
  }
  if ((foreign && /^proxmoxve:/.test(key)) || (!foreign && path[0] === "proxmox")) {
    return `${inFolder("the API token")} as ${proxmoxTokenNames(castle)}`;
  }
  if (!foreign && path[0] === "eso" && /client|identity|auth/i.test(key)) {
    return `${inFolder("the cluster's identity")} as ${names.esoClientId} and ${names.esoClientSecret}`;
  }
  if ((foreign && /^infisical:/.test(key)) || (!foreign && path[0] === "infisical")) {
    return `the program's own Infisical credentials come from the environment: ${INFISICAL_ENV.clientId} and ${INFISICAL_ENV.clientSecret}, or ${INFISICAL_ENV.accessToken}`;
  }
  return `the castle reads no such secret (it reads ${names.secretboxKey}, ${proxmoxTokenNames(castle)}, ${names.esoClientId} and ${names.esoClientSecret} from ${destination(castle)}); an application's secret goes in the cluster's folder (castle:eso.secretsPath) and reaches it through an ExternalSecret (castle:eso.externalSecrets)`;
}

function walk(value: unknown, path: ValuePath, visit: (value: unknown, path: ValuePath) => boolean): void {
  if (visit(value, path)) return; // reported: do not look inside
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      walk(v, [...path, i], visit);
    });
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) walk(v, [...path, k], visit);
  }
}

export interface PastedSecretInput {
  /** The `castle:` keys, prefix removed (unprefixed keys of the project namespace included). */
  castle: Record<string, unknown>;
  /** Keys of other namespaces, full name (`proxmoxve:apiToken`). */
  foreign?: Record<string, unknown>;
  /** Paths below `castle:` of keys the schema does not know. */
  unknownKeys?: ValuePath[];
  /** Top-level `castle:` keys Pulumi holds as secure (known to the program, not to the file reader). */
  secureKeys?: ReadonlySet<string>;
}

/** Every pasted secret of a stack's configuration. */
export function pastedSecrets(input: PastedSecretInput): PastedSecret[] {
  const found: PastedSecret[] = [];
  const { castle } = input;
  const leafName = (path: ValuePath) => path.filter((p) => typeof p === "string").join("_") || "secret";

  for (const key of input.secureKeys ?? []) {
    found.push({
      path: [key],
      message: `a Pulumi secret (secure: value) in the stack file; ${where([key], false, castle)}`,
    });
  }
  const reported = new Set(found.map((f) => JSON.stringify(f.path)));
  const scan = (root: Record<string, unknown>, foreign: boolean) =>
    walk(root, [], (value, path) => {
      if (path.length === 0 || reported.has(JSON.stringify(path))) return false;
      if (isSecureValue(value)) {
        found.push({
          path,
          foreign,
          message: `a Pulumi secret (secure: value) in the stack file; ${where(path, foreign, castle)}`,
        });
        return true;
      }
      if (typeof value === "string" && urlCarriesCredentials(value)) {
        found.push({
          path,
          foreign,
          message:
            !foreign && path[0] === "proxmox"
              ? `the URL carries credentials (a user, password or token before the host); give the URL without them. Secrets are read from Infisical: put the API token in ${destination(castle)} as ${proxmoxTokenNames(castle)}`
              : !foreign && path[0] === "gitops"
                ? "the URL carries credentials (a user, password or token before the host); give the URL without them. A Git token is read by ESO from the cluster's Infisical folder: name its secret in castle:gitops.credentials.token"
                : `the URL carries credentials (a user, password or token before the host); give the URL without them. ${where(path, foreign, castle)}`,
        });
        return true;
      }
      return false;
    });
  scan(castle, false);
  scan(input.foreign ?? {}, true);

  const has = (path: ValuePath) => found.some((f) => JSON.stringify(f.path) === JSON.stringify(path));
  for (const path of input.unknownKeys ?? []) {
    const name = leafName(path);
    // castle:infisical.secretNames holds the names of secrets, never their values.
    const namesOnly = path[0] === "infisical" && path[1] === "secretNames";
    if (soundsSecret(name) && !namesOnly && !has(path)) {
      found.push({ path, message: `the name says it holds a secret; ${where(path, false, castle)}` });
    }
  }
  for (const key of Object.keys(input.foreign ?? {})) {
    if (soundsSecret(key.replace(/^[^:]*:/, "")) && !has([key])) {
      found.push({
        path: [key],
        foreign: true,
        message: `the name says it holds a secret; ${where([key], true, castle)}`,
      });
    }
  }
  return found;
}
