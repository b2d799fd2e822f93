/**
 * Does a text that should be a name (an Infisical key name, a Kubernetes name, a folder, a URL) look
 * like a secret pasted in its place? One function, `secretLikeReason`, used by every value check of the
 * stack file and the environment, and by every message that might otherwise quote a value. Pure; the
 * answer names the kind of secret, never the value.
 *
 * What counts: a PEM header; a known token prefix (GitHub, GitLab, Slack, npm, Pulumi, Vault, Infisical,
 * AWS, Google, Stripe/OpenAI-style `sk-`, a JWT); a UUID (Proxmox token secrets are UUIDs); a run of
 * 32 or more hex digits (Infisical client secrets are 64); a run of 20 or more base64 characters that
 * mixes upper case, lower case and digits (an encoded key or a bare token); a run of 40 or more base64
 * characters with no word break that is not a pattern (3 bits per character or more); any word (between '-', '_', '/', '.') of 16 or more characters whose
 * Shannon entropy is 4 bits per character or more. Ordinary names (`FLUX_GIT_TOKEN`, `GRAFANA_ADMIN_PASSWORD`, `castle-blue`,
 * `/apps/blue`, `https://git.example.com/org/castle.git`) have none of these.
 */

/** Token prefixes of well-known issuers, each with the shape of what follows it. */
const TOKEN_PREFIXES: readonly { kind: string; pattern: RegExp }[] = [
  { kind: "a GitHub token", pattern: /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/ },
  { kind: "a GitLab token", pattern: /\bgl(pat|dt|rt|cbt|ptt|ft)-[A-Za-z0-9_-]{16,}/ },
  { kind: "a Slack token", pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { kind: "an npm token", pattern: /\bnpm_[A-Za-z0-9]{30,}/ },
  { kind: "a Pulumi access token", pattern: /\bpul-[0-9a-f]{32,}/ },
  { kind: "a Vault token", pattern: /\bhv[sbr]\.[A-Za-z0-9_-]{20,}/ },
  { kind: "an Infisical service token", pattern: /\bst\.[A-Za-z0-9-]{8,}\.[0-9a-f]{16,}/ },
  { kind: "an AWS access key id", pattern: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { kind: "a Google API key", pattern: /\bAIza[0-9A-Za-z_-]{30,}/ },
  { kind: "an API secret key", pattern: /\b(sk|rk)[-_](live_|test_|proj-)?[A-Za-z0-9_-]{20,}/ },
  { kind: "a JSON Web Token", pattern: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
];

const PEM = /-----BEGIN [A-Z0-9 ]*(KEY|CERTIFICATE|SECRET|MESSAGE)[A-Z0-9 ]*-----|\bBEGIN OPENSSH PRIVATE KEY\b/;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const HEX_RUN = /[0-9a-f]{32,}|[0-9A-F]{32,}/;
/** Runs of the base64 and base64url alphabets (with padding): where an encoded secret would sit. */
const BASE64_RUNS = /[A-Za-z0-9+/_=-]{16,}/g;

/** Shannon entropy of a sequence (a key's bytes, a text's characters), bits per symbol. */
export function shannonEntropy<T>(symbols: Iterable<T>): number {
  const counts = new Map<T, number>();
  let length = 0;
  for (const symbol of symbols) {
    counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
    length++;
  }
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Least entropy, bits per character, of a 16+ character run that is taken for random. */
export const SECRET_ENTROPY_BITS = 4;

/**
 * What kind of secret `value` looks like ("a GitHub token", "a UUID", "long base64"...), or undefined
 * when it looks like an ordinary name. Never returns any part of the value.
 */
export function secretLikeReason(value: string): string | undefined {
  if (PEM.test(value)) return "a PEM block (a key or certificate)";
  for (const { kind, pattern } of TOKEN_PREFIXES) if (pattern.test(value)) return kind;
  if (UUID.test(value)) return "a UUID (a Proxmox token secret or a client secret has this form)";
  if (HEX_RUN.test(value)) return "a long run of hex digits (a client secret or a key)";
  for (const run of value.match(BASE64_RUNS) ?? []) {
    // Word breaks of names ('-', '_', '/', '.') split a run into words; a secret has none, or few.
    const mixed = /[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run);
    if (run.length >= 20 && mixed) return "long base64 (an encoded key or a token)";
    if (run.length >= 40 && !/[-_/.]/.test(run) && shannonEntropy(run) >= 3)
      return "long base64 (an encoded key or a token)";
    for (const word of run.split(/[-_/.+=]+/)) {
      if (word.length >= 16 && shannonEntropy(word) >= SECRET_ENTROPY_BITS) return "high-entropy text (a random token)";
    }
  }
  return undefined;
}
