/**
 * "Did you mean ...": the known name closest to a mistyped one, for commands and stack keys alike.
 * Edit distance from fastest-levenshtein; a name the typed text starts (two letters or more) is closest.
 */
import { distance } from "fastest-levenshtein";

/**
 * The name of `known` closest to `typed`, when it is close: at most one edit per three letters of the
 * name (one at least), case ignored. Undefined when nothing is that close.
 */
export function closestName(typed: string, known: readonly string[]): string | undefined {
  const lower = typed.toLowerCase();
  const ranked = known
    .map((name) => ({
      name,
      d: name.toLowerCase().startsWith(lower) && lower.length >= 2 ? 0 : distance(lower, name.toLowerCase()),
    }))
    .sort((x, y) => x.d - y.d);
  const best = ranked[0];
  return best && best.d <= Math.max(1, Math.floor(best.name.length / 3)) ? best.name : undefined;
}
