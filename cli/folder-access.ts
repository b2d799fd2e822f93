import type { FolderAccess, IdentityWallProbe } from "../config/infisical";

/** What an identity met in one folder, in doctor's words (never a value: counts and HTTP statuses only). */
export function describeFolderAccess(access: FolderAccess): string {
  switch (access.outcome) {
    case "listed":
      return `listed (${access.count} secret${access.count === 1 ? "" : "s"}${access.hiddenValues ? ", values hidden" : ""})`;
    case "denied":
      return "refused (HTTP 403)";
    case "missing":
      return "not found (HTTP 404)";
    case "failed":
      return `failed${access.status ? ` (HTTP ${access.status})` : ""}`;
  }
}

/**
 * A folder an identity must not read that it could: a 200 that shows none of its secrets (a server that
 * filters what an identity may not see) leaks nothing; any secret listed is a hole.
 */
export function breach(access: FolderAccess): boolean {
  return access.outcome === "listed" && (access.count ?? 0) > 0;
}

/** One line per folder an identity was tried on: its own, then each forbidden one under its label. */
export function identityWallLines(probe: IdentityWallProbe, labels: readonly string[]): string[] {
  const lines: string[] = [];
  if (probe.own) lines.push(`  own folder     ${probe.own.path}: ${describeFolderAccess(probe.own)}`);
  probe.forbidden.forEach((access, i) => {
    lines.push(`  ${labels[i] ?? "other folder  "} ${access.path}: ${describeFolderAccess(access)}`);
  });
  return lines;
}
