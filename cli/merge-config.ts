/**
 * `--merge`: the castle's entries added to, or replaced in, the user's own kubeconfig or talosconfig,
 * every other entry left as it was (comments and order included: the file is edited as a YAML document).
 *
 * What castle wrote is marked, so that it replaces only its own entries:
 * - kubeconfig: each cluster, user and context it adds carries a named extension `castle` holding the
 *   stack's name, in the place client-go gives one (`cluster.extensions`, `user.extensions`,
 *   `context.extensions`). kubectl keeps extensions when it rewrites the file (`kubectl config
 *   use-context`), as it keeps minikube's `cluster_info`.
 * - talosconfig: the context's key carries the comment `written by castle talosconfig <stack>`. talosctl
 *   decodes contexts into a fixed struct (siderolabs/talos v1.13.0 pkg/machinery/client/config/config.go),
 *   so a field would be dropped; a file talosctl rewrote loses the comment, and castle then refuses rather
 *   than guess.
 * An entry of the same name without the mark is the user's: the merge is refused, naming it.
 * The current context is set only when the file has none, so a merge never switches the user's cluster.
 */
import { type Document, isMap, isSeq, parseDocument, type YAMLMap, YAMLSeq } from "yaml";

/** The merge would touch an entry castle did not write, or the file is not a config castle can read. */
export class MergeRefusal extends Error {}

/** The result: the new file's text and the context the castle's entries are reached by. */
export interface Merged {
  text: string;
  context: string;
  /** The file had no current context, and now has the castle's. */
  madeCurrent: boolean;
}

const EXTENSION = "castle";

/** Serialised as kubectl and talosctl write (sequences not indented, `{a: b}`), so untouched entries stay as they were. */
const KEEP_STYLE = { indentSeq: false, flowCollectionPadding: false } as const;

function parse(text: string, file: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new MergeRefusal(`${file} is not valid YAML (${doc.errors[0].message.split("\n")[0]})`);
  if (doc.contents !== null && !isMap(doc.contents)) throw new MergeRefusal(`${file} is not a map of settings`);
  return doc;
}

/** The stack the `castle` extension of an entry's body (`cluster`, `user` or `context`) names, if any. */
function castleStackOf(body: unknown): string | undefined {
  const extensions = (body as { extensions?: { name?: string; extension?: { stack?: unknown } }[] } | null)?.extensions;
  const mine = Array.isArray(extensions) ? extensions.find((e) => e?.name === EXTENSION) : undefined;
  return typeof mine?.extension?.stack === "string" ? mine.extension.stack : undefined;
}

/**
 * The castle's kubeconfig (`castleText`, as Talos writes it: clusters, users, contexts and a current
 * context) merged into the user's (`existing`, undefined when there is no file).
 */
export function mergeKubeconfig(existing: string | undefined, castleText: string, stack: string, file: string): Merged {
  const castle = parseDocument(castleText).toJS() as Record<string, unknown>;
  const doc = parse(existing ?? "apiVersion: v1\nkind: Config\n", file);
  if (doc.contents === null) doc.contents = doc.createNode({ apiVersion: "v1", kind: "Config" }) as YAMLMap;
  for (const [kind, field] of [
    ["clusters", "cluster"],
    ["users", "user"],
    ["contexts", "context"],
  ] as const) {
    const ours = (castle[kind] ?? []) as ({ name: string } & Record<string, unknown>)[];
    let list = doc.get(kind);
    if (list === null || list === undefined) {
      list = new YAMLSeq();
      doc.set(kind, list);
    }
    if (!isSeq(list)) throw new MergeRefusal(`${file}: ${kind} is not a list`);
    for (const entry of ours) {
      const at = list.items.findIndex((item) => isMap(item) && item.get("name") === entry.name);
      if (at >= 0) {
        const owner = castleStackOf((list.items[at] as YAMLMap).toJSON()[field]);
        if (owner !== stack) {
          throw new MergeRefusal(
            `${file} has a ${field} "${entry.name}" that castle did not write${owner ? ` for this stack (it is stack ${owner}'s)` : ""}; it is left as it is. Remove or rename it (kubectl config delete-${field} / rename-context) or write a separate file with --out`,
          );
        }
      }
      const body = (entry[field] ?? {}) as Record<string, unknown>;
      const node = doc.createNode({
        ...entry,
        [field]: { ...body, extensions: [{ name: EXTENSION, extension: { stack } }] },
      });
      if (at >= 0) list.items[at] = node;
      else list.items.push(node);
    }
  }
  const context = String(castle["current-context"] ?? ((castle.contexts as { name: string }[]) ?? [])[0]?.name ?? "");
  const current = doc.get("current-context");
  const madeCurrent = current === undefined || current === null || current === "";
  if (madeCurrent) doc.set("current-context", context);
  return { text: doc.toString(KEEP_STYLE), context, madeCurrent };
}

const talosMark = (stack: string) => ` written by castle talosconfig ${stack}`;

/**
 * The castle's talosconfig (`context:` and `contexts:`, as Talos writes it) merged into the user's.
 */
export function mergeTalosconfig(
  existing: string | undefined,
  castleText: string,
  stack: string,
  file: string,
): Merged {
  const castle = parseDocument(castleText).toJS() as { context?: string; contexts?: Record<string, unknown> };
  const doc = parse(existing ?? "", file);
  if (doc.contents === null) doc.contents = doc.createNode({}) as YAMLMap;
  let contexts = doc.get("contexts");
  if (contexts === null || contexts === undefined) {
    contexts = doc.createNode({});
    doc.set("contexts", contexts);
  }
  if (!isMap(contexts)) throw new MergeRefusal(`${file}: contexts is not a map`);
  for (const [name, value] of Object.entries(castle.contexts ?? {})) {
    const pair = contexts.items.find((p) => (p.key as { value?: unknown })?.value === name || p.key === name);
    if (pair) {
      const comment = (pair.key as { commentBefore?: string }).commentBefore ?? "";
      if (!comment.split("\n").includes(talosMark(stack))) {
        throw new MergeRefusal(
          `${file} has a context "${name}" that castle did not write; it is left as it is. Remove or rename it (talosctl config remove ${name}) or write a separate file with --out`,
        );
      }
    }
    const key = doc.createNode(name);
    key.commentBefore = talosMark(stack);
    const node = doc.createPair(key, value);
    if (pair) contexts.items[contexts.items.indexOf(pair)] = node;
    else contexts.items.push(node);
  }
  const context = castle.context ?? Object.keys(castle.contexts ?? {})[0] ?? "";
  const current = doc.get("context");
  const madeCurrent = current === undefined || current === null || current === "";
  if (madeCurrent) doc.set("context", context);
  return { text: doc.toString(KEEP_STYLE), context, madeCurrent };
}
