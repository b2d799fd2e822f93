/**
 * Registers the TypeScript loader the way `pulumi` does for a project without `nodeargs`
 * (@pulumi/pulumi/cmd/run/run.js, CommonJS branch): ts-node from the project or Pulumi's vendored
 * ts-node 7.0.1, the project's `typescript`, tsconfig.json's compiler options over Pulumi's defaults,
 * and type checking unless PULUMI_NODEJS_TRANSPILE_ONLY=true (or tsconfig's `noCheck`).
 * Used by bench/load-time.ts: node --require ./bench/ts-node-register.cjs bench/load-probe.ts <target>
 */
const tsutils = require("@pulumi/pulumi/tsutils");

const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? "tsconfig.json";
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
const transpileOnlyEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
const transpileOnly = transpileOnlyEnv ? transpileOnlyEnv === "true" : compilerOptions.noCheck;
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const ts = require(typescriptRequire);
const [major, minor] = ts.version.split(".").map(Number);
const useNodeNext = major > 4 || (major === 4 && minor >= 7);

require(tsnodeRequire).register({
  compiler: typescriptRequire,
  transpileOnly,
  project: tsConfigPath,
  skipProject: false,
  compilerOptions: {
    target: "ES2020",
    module: useNodeNext ? "nodenext" : "commonjs",
    moduleResolution: useNodeNext ? "nodenext" : "node",
    sourceMap: "true",
    ...compilerOptions,
  },
});
