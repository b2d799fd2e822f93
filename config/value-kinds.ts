/**
 * Kinds of text value a stack file (or the environment) gives the castle: an Infisical secret name, a
 * Kubernetes name, an Infisical folder, a URL, a plain word. Each kind is a zod schema that first refuses
 * a value that looks like a secret pasted in the wrong place (lib/secret-like.ts), then checks the form
 * the kind must have. A field gets both by being declared with its kind:
 *
 *   token: infisicalKeyName("FLUX_GIT_TOKEN").optional(),
 *   secretsPath: infisicalFolder("/apps/blue"),
 *   url: url({ what: "a Git repository URL", schemes: ["https", "ssh"], sshUser: true, example: "..." }),
 *
 * Their refusals never quote the value: they name the kind of secret, or the characters that are not
 * allowed. The loader (load.ts) prints such an issue without the value it prints for other issues.
 */
import { z } from "zod";
import { DNS_LABEL, isLoopbackHost } from "../lib/net";
import { secretLikeReason } from "../lib/secret-like";

/** Marks an issue whose value must not be shown (see `isUnquotedIssue`). */
const UNQUOTED = { unquoted: true } as const;

/** Whether a zod issue came from a value kind: the loader then prints it without the value. */
export function isUnquotedIssue(issue: { code: string; params?: unknown }): boolean {
  return issue.code === "custom" && (issue.params as { unquoted?: unknown } | undefined)?.unquoted === true;
}

/** "a space, '+' and '/'": the characters of `value` that `allowed` refuses, never the value. */
export function forbiddenCharacters(value: string, allowed: RegExp): string {
  const names: string[] = [];
  for (const char of new Set(value)) {
    if (allowed.test(char)) continue;
    if (char === " ") names.push("a space");
    else if (/\s/.test(char)) names.push("a line break or tab");
    else if (/[\p{Cc}\p{Cf}]/u.test(char)) names.push("a control character");
    else names.push(`'${char}'`);
    if (names.length === 4) break;
  }
  if (names.length <= 1) return names[0] ?? "nothing";
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/**
 * A text value of kind `what` ("an Infisical secret name"): refused when it looks like a secret, then when
 * `problem` finds fault with its form. Neither refusal quotes the value.
 */
export function valueKind(
  what: string,
  problem: (value: string) => string | undefined = () => undefined,
  options: { notSecret?: RegExp } = {},
) {
  return z.string().superRefine((value, ctx) => {
    if (value.length === 0) {
      ctx.addIssue({ code: "custom", message: `must not be empty: give ${what}`, params: UNQUOTED });
      return;
    }
    // `notSecret`: a form the field's own rules know and name (a Git commit id in a reference field).
    const secret = options.notSecret?.test(value) ? undefined : secretLikeReason(value);
    if (secret) {
      ctx.addIssue({
        code: "custom",
        message: `looks like ${secret}, not ${what}; the value is not shown. A secret belongs in Infisical and the stack file names it: move the value there, rotate it if it was committed, and give ${what} here`,
        params: UNQUOTED,
      });
      return;
    }
    const fault = problem(value);
    if (fault) ctx.addIssue({ code: "custom", message: fault, params: UNQUOTED });
  });
}

const KEY_NAME_CHARACTER = /[A-Za-z0-9_.-]/;

/** The name of a secret in Infisical (a key in a folder), e.g. `FLUX_GIT_TOKEN`. */
export const infisicalKeyName = (example: string) =>
  valueKind("an Infisical secret name", (value) =>
    /^[A-Za-z0-9_.-]+$/.test(value)
      ? undefined
      : `must be an Infisical secret name such as ${example} (letters, digits, '_', '.', '-'); it holds ${forbiddenCharacters(value, KEY_NAME_CHARACTER)}`,
  );

/** A Kubernetes object or namespace name, a hostname: one DNS label (RFC 1123). */
export const kubernetesName = (what: string) =>
  valueKind(`a ${what}`, (value) =>
    DNS_LABEL.test(value)
      ? undefined
      : `${what} must be a DNS label: lower-case letters, digits and '-', 1-63 characters, starting and ending with a letter or digit${/[^a-z0-9-]/.test(value) ? `; it holds ${forbiddenCharacters(value, /[a-z0-9-]/)}` : ""}`,
  );

/** An absolute Infisical folder path without a trailing slash, `/` for the root. */
export const infisicalFolder = (example: string) =>
  valueKind("an Infisical folder", (value) => {
    if (!/^\/([^/]+(\/[^/]+)*)?$/.test(value)) {
      return `must be an absolute folder path such as / or ${example}, without a trailing slash`;
    }
    // The walls between folders compare paths as text: a '.' or '..' step would let one path name another.
    if (value.split("/").some((name) => name === "." || name === "..")) {
      return `must name its folders without '.' or '..' steps, such as ${example}`;
    }
    if (/[\s\p{Cc}\p{Cf}\\]/u.test(value)) {
      return `must be folder names without spaces, control characters or '\\', such as ${example}; it holds ${forbiddenCharacters(value, /[^\s\p{Cc}\p{Cf}\\]/u)}`;
    }
    return undefined;
  });

/** A word of text that is no secret and has no space: a Proxmox storage or bridge, an image registry. */
export const plainWord = (what: string, pattern: RegExp, expected: string) =>
  valueKind(what, (value) => (pattern.test(value) ? undefined : expected));

export interface UrlKind {
  /** What the URL is, for messages: "the Proxmox API endpoint". */
  what: string;
  /** Schemes allowed, without ':'. */
  schemes: readonly ("https" | "http" | "ssh")[];
  /** An example to show. */
  example: string;
  /** Plain http is allowed for a loopback host (a local Infisical or a tunnel). */
  loopbackHttp?: boolean;
  /** An ssh:// URL may name its login user (`ssh://git@host/...`): no secret there, the key is. */
  sshUser?: boolean;
  /** Whether a path is allowed (false: the server root only, a trailing '/' at most). */
  path?: boolean;
}

/**
 * Why `value` is not a URL of `kind`, or undefined. Parsed with `new URL`: a scheme without `//`
 * (`https:user:pw@host`, which WHATWG parsing reads as `https://user:pw@host`), a user, a password, a
 * query or a fragment are refused. Never quotes the value.
 */
export function urlProblem(value: string, kind: UrlKind): string | undefined {
  const allowed = kind.schemes.map((s) => `${s}://`).join(" or ");
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    if (/^[^/:@\s]+@[^/:\s]+:/.test(value)) {
      return `is the scp-like form user@host:path, which is no URL (Flux refuses it): write it as ssh://user@host/path`;
    }
    return `must be a URL written with its scheme and '//', such as ${kind.example}`;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a URL; give ${kind.what} such as ${kind.example}`;
  }
  const scheme = url.protocol.replace(/:$/, "");
  const loopbackHttp = kind.loopbackHttp === true && scheme === "http" && isLoopbackHost(url.hostname);
  if (!(kind.schemes as readonly string[]).includes(scheme) && !loopbackHttp) {
    return `must use ${allowed}${kind.loopbackHttp ? " (plain http is allowed only for a loopback address such as 127.0.0.1)" : ""}, such as ${kind.example}`;
  }
  if (url.password !== "")
    return "carries a password before the host: give the URL without it (the value is not shown)";
  if (url.username !== "" && !(kind.sshUser && scheme === "ssh")) {
    return "carries a user or token before the host: give the URL without it (the value is not shown)";
  }
  if (url.hostname === "") return `has no host; give ${kind.what} such as ${kind.example}`;
  if (url.search !== "") return "carries a query ('?...'), where tokens travel: give the URL without it";
  if (url.hash !== "") return "carries a fragment ('#...'): give the URL without it";
  if (kind.path === false && url.pathname.replace(/\/+$/, "") !== "") {
    return `must be the server root without a path, such as ${url.origin}`;
  }
  return undefined;
}

/** A URL of `kind`, checked by `urlProblem` after the secret test on each of its parts. */
export const url = (kind: UrlKind) => valueKind(kind.what, (value) => urlProblem(value, kind));
