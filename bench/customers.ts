// Customers for the benchmark: `customers/bench-NNN.yaml`, written for the run and removed after
// (never committed: .gitignore). Each is a small customer with every agent service.
import * as fs from "fs";
import * as path from "path";
import { CUSTOMERS_DIR } from "../config/customers";
import { PROJECT_ROOT } from "../lib/paths";

const dir = path.join(PROJECT_ROOT, CUSTOMERS_DIR);

/** Writes (if missing) and returns the names of `n` benchmark customers. */
export function benchCustomers(n: number): string[] {
  const names = Array.from({ length: n }, (_, i) => `bench-${String(i + 1).padStart(3, "0")}`);
  for (const name of names) {
    const file = path.join(dir, `${name}.yaml`);
    if (fs.existsSync(file)) continue;
    fs.writeFileSync(
      file,
      [
        "# Written by npm run bench; removed when it ends.",
        `displayName: ${name}`,
        "branding:",
        `  title: ${name}`,
        "  logo: nordlys/logo.svg",
        "  favicon: nordlys/favicon.svg",
        "agents: { router: true, crewai: true, autogen: true }",
        "sizing: minimal",
        "",
      ].join("\n"),
    );
  }
  return names;
}

/** Removes every benchmark customer file. */
export function removeBenchCustomers(): void {
  for (const f of fs.readdirSync(dir)) if (/^bench-\d+\.yaml$/.test(f)) fs.rmSync(path.join(dir, f));
}
