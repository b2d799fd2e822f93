/**
 * The Talos releases the castle is written for: its provider bindings, config patches (v1.13 document
 * forms such as `Layer2VIPConfig` and `LinkAliasConfig`) and machine-secrets contract are Talos v1.13's.
 * One home for the version rule, used by the stack schema and by the builders that name a release.
 */

/** The machine-secrets version contract of every castle: the Talos minor release. */
export const TALOS_CONTRACT = "v1.13";

/** A release of that minor version, with the leading `v`: `v1.13.0`, `v1.13.9`... */
export const TALOS_RELEASE = /^v1\.13\.(0|[1-9]\d*)$/;

/** A contract as the running castle's marks carry it, of any Talos: `v<major>.<minor>`. */
export const TALOS_CONTRACT_FORM = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** The contract of a release: its major.minor (`v1.13.9` -> `v1.13`). */
export function contractOf(release: string): string {
  return release.replace(/\.\d+$/, "");
}
