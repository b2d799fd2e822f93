import type { FolderAccess } from "../config/infisical";

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
