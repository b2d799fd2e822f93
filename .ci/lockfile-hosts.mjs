#!/usr/bin/env node
// The lockfile may fetch packages only from the npm registry, and only with an integrity hash: every
// `resolved` (when present: npm then fetches that URL, whatever the registry setting) must be an https URL on
// registry.npmjs.org, and every package entry must carry `integrity`. A project `.npmrc` may not point npm
// elsewhere. Runs in the test workflow and, before `npm ci`, in the preview of a pull request that changes code.
// Usage: node .ci/lockfile-hosts.mjs [project-dir]   (exit 1 and one line per offence when refused)
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export const REGISTRY_HOST = "registry.npmjs.org";

/** Offences of a parsed package-lock.json (lockfile v2/v3 `packages`), one line each; empty when fine. */
export function lockfileOffences(lock) {
  const offences = [];
  if (lock?.lockfileVersion !== 2 && lock?.lockfileVersion !== 3) {
    offences.push(`lockfileVersion ${JSON.stringify(lock?.lockfileVersion)}: expected 2 or 3 (npm 7 or later)`);
  }
  for (const [name, entry] of Object.entries(lock?.packages ?? {})) {
    if (name === "" || entry?.link === true) continue;
    if (typeof entry?.resolved === "string") {
      let url;
      try {
        url = new URL(entry.resolved);
      } catch {
        offences.push(`${name}: resolved is not a URL`);
        continue;
      }
      if (url.protocol !== "https:" || url.host !== REGISTRY_HOST || url.username || url.password || url.search) {
        offences.push(`${name}: resolved from ${url.protocol}//${url.host}, not https://${REGISTRY_HOST}`);
      }
    } else if (entry?.resolved !== undefined) {
      offences.push(`${name}: resolved is not text`);
    }
    if (typeof entry?.integrity !== "string" || !/^sha512-[A-Za-z0-9+/]+={0,2}$/.test(entry.integrity)) {
      offences.push(`${name}: no sha512 integrity`);
    }
  }
  return offences;
}

/** Offences of a project `.npmrc`: any registry setting other than the npm registry. */
export function npmrcOffences(text) {
  const offences = [];
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*((@[^:=\s]+:)?registry)\s*=\s*(\S+)/.exec(line);
    if (match && match[3].replace(/\/+$/, "") !== `https://${REGISTRY_HOST}`) {
      offences.push(`.npmrc: ${match[1]} points away from https://${REGISTRY_HOST}`);
    }
  }
  return offences;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = path.resolve(process.argv[2] ?? ".");
  const offences = lockfileOffences(JSON.parse(readFileSync(path.join(dir, "package-lock.json"), "utf8")));
  const npmrc = path.join(dir, ".npmrc");
  if (existsSync(npmrc)) offences.push(...npmrcOffences(readFileSync(npmrc, "utf8")));
  for (const offence of offences) console.error(`lockfile: ${offence}`);
  if (offences.length > 0) {
    console.error(
      `lockfile: ${offences.length} offence(s); packages come from https://${REGISTRY_HOST} with integrity only`,
    );
    process.exit(1);
  }
  console.log(`lockfile: every package from https://${REGISTRY_HOST} (or the default registry), with sha512 integrity`);
}
