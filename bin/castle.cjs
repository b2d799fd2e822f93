#!/usr/bin/env node
// Entry point of `npx castle`: loads the TypeScript CLI through tsx, the same loader as the program.
// Node 22's on-disk compile cache (in the system's temp folder) spares re-parsing the dependencies on
// every run; older Nodes lack it and skip this.
require("node:module").enableCompileCache?.();
require("tsx/cjs");
const { main } = require("../cli/castle.ts");

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 2;
  },
);
