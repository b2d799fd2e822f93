/**
 * The README and docs/ say only commands the castle takes. Every `castle ...` they write (in a code block
 * or a code span) is read by the castle's own command line: a concrete command must be accepted as it is
 * written (flags that apply, a stack where one is needed); a usage line (`<stack>`, `[--out FILE]`) must
 * name a command that exists. The quickstart's offline commands (check, render) run for real.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { main } from "../cli/castle";

const ROOT = path.resolve(__dirname, "..");
const PAGES = ["README.md", ...readdirSync(path.join(ROOT, "docs")).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith(".md"),
);

/** Code in a Markdown text: fenced blocks line by line, and inline code spans. */
function codeOf(text: string): string[] {
  const code: string[] = [];
  const fences = text.split(/^```.*$/m);
  fences.forEach((part, i) => {
    if (i % 2 === 1) code.push(...part.split("\n"));
    else for (const span of part.matchAll(/`([^`\n]+)`/g)) code.push(span[1]);
  });
  return code;
}

/** Each `castle ...` command in a line of code, without the shell's comment and what follows `&&`. */
function castleCommands(line: string): string[] {
  const found: string[] = [];
  for (const match of line.matchAll(/(?:^|[\s(])(?:npx )?castle ((?:[^\s#&|;`)]+ ?)*)/g)) {
    const args = match[1].trim();
    if (args) found.push(args);
  }
  return found;
}

const commands = PAGES.flatMap((page) =>
  codeOf(readFileSync(path.join(ROOT, page), "utf8")).flatMap((line) =>
    castleCommands(line).map((args) => ({ page, args })),
  ),
);

async function run(argv: string[], options: { validateOnly: boolean; cwd?: string }) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, options.cwd ?? ROOT, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    write: () => {},
    env: {},
    validateOnly: options.validateOnly,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("the commands the README and docs/ give", () => {
  it("are found (the quickstart's at least)", () => {
    const readme = commands.filter((c) => c.page === "README.md").map((c) => c.args);
    for (const expected of ["check blue", "render blue --out rendered/blue", "doctor blue", "up blue", "status"]) {
      assert.ok(readme.includes(expected), `README lacks castle ${expected}: ${readme.join(" | ")}`);
    }
  });

  for (const { page, args } of commands) {
    // A usage line, or a command named in prose (`castle check` alone).
    const usage = /[<[|]|\.\.\.|FILE|DIR/.test(args) || !args.includes(" ");
    it(`${page}: castle ${args}`, async () => {
      if (usage) {
        // A usage line: its command exists.
        const [command] = args.split(" ");
        const argv =
          command.startsWith("-") || command === "help" || command === "..." ? ["--help"] : ["help", command];
        const help = await run(argv, { validateOnly: true });
        assert.equal(help.code, 0, `castle ${args}: ${help.err}`);
        return;
      }
      const { code, err } = await run(args.split(" "), { validateOnly: true });
      assert.equal(code, 0, `castle ${args} is refused: ${err}`);
    });
  }

  it("the quickstart's offline commands run: check, render --out, check of the home-lab example", async () => {
    const project = mkdtempSync(path.join(tmpdir(), "castle-readme-"));
    dirs.push(project);
    for (const file of ["Pulumi.yaml", "Pulumi.blue.yaml", "Pulumi.green.yaml"]) {
      cpSync(path.join(ROOT, file), path.join(project, file));
    }
    cpSync(path.join(ROOT, "examples"), path.join(project, "examples"), { recursive: true });
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const quickstart = readme.slice(readme.indexOf("## Quickstart"), readme.indexOf("## Commands"));
    const offline = codeOf(quickstart)
      .flatMap(castleCommands)
      .filter((args) => /^(check|render) /.test(args));
    assert.deepEqual(offline, [
      "check blue",
      "render blue --out rendered/blue",
      "check examples/homelab/Pulumi.homelab.yaml",
    ]);
    for (const args of offline) {
      const result = await run(args.split(" "), { validateOnly: false, cwd: project });
      assert.equal(result.code, 0, `castle ${args}: ${result.out}\n${result.err}`);
    }
    assert.ok(readdirSync(path.join(project, "rendered", "blue")).includes("resources.json"));
  });
});
