// Entry point of `pulumi up` (Pulumi.yaml `main`): the program compiled to bin/ when that build is
// current, otherwise index.ts through ts-node (scripts/compiled.js says which).
"use strict";
const { compiledRoot } = require("./scripts/compiled.js");

const bin = compiledRoot();
if (bin) {
  // Pulumi's language host installs source-map-support, and the SDK formats a stack trace for
  // every promise it creates: rewriting those took half of the program's evaluation time
  // (docs/performance.md). The compiled program keeps V8's own stack traces (bin/ paths).
  Error.prepareStackTrace = undefined;
  module.exports = require(`${bin}/index.js`);
} else {
  require("ts-node").register({ transpileOnly: true, project: `${__dirname}/tsconfig.json` });
  module.exports = require("./index.ts");
}
