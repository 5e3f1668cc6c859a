// Program evaluation alone: the whole program for N customers under Pulumi mocks, in a process of
// its own so its peak memory is its own. Prints one JSON line: { customers, seconds, maxRssMb }.
//   ts-node --transpile-only bench/eval.ts <N>
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { draftLicense, generateKeyPair, issueLicense } from "../platform/license";
import { runProgram } from "../test/unit/harness";
import { benchCustomers, removeBenchCustomers } from "./customers";

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? "100");
  const names = benchCustomers(n);
  const key = generateKeyPair("bench");
  const licenses = Object.fromEntries(
    names.map((c) => [
      c,
      issueLicense(
        draftLicense({
          customer: c,
          issuedAt: "2020-01-01",
          expiresAt: "2099-12-31",
          features: ["agents.router", "agents.crewai", "agents.autogen"],
          keyId: key.keyId,
        }),
        key.privateKey,
      ),
    ]),
  );
  const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-bench-eval-")), "kubeconfig");
  fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");
  const start = process.hrtime.bigint();
  const run = await runProgram(
    {
      "es1:cluster": JSON.stringify({ provider: "existing", kubeconfig }),
      "es1:customers": JSON.stringify(names),
      "es1:licenses": JSON.stringify(licenses),
      "es1:licenseTestKeys": "true",
      "es1:licensePublicKeys": JSON.stringify({ [key.keyId]: key.publicKey }),
    },
    { secretKeys: ["es1:licenses"] },
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const platforms = run.resources.filter((r) => r.type === "es1:platform:CustomerPlatform").length;
  if (platforms !== n) throw new Error(`expected ${n} customer platforms, registered ${platforms}`);
  process.stdout.write(
    `${JSON.stringify({
      customers: n,
      resources: run.resources.length,
      seconds: Math.round(seconds * 100) / 100,
      maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    })}\n`,
  );
}

main()
  .catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(removeBenchCustomers);
