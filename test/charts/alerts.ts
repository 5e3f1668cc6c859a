// The ES1 alert rules as Prometheus loads them, for promtool (test/charts/run.sh):
//   ts-node test/charts/alerts.ts write <dir>
// writes <dir>/es1-alerts.rules.yaml (the PrometheusRule's groups, es1:licenseWarningDays at its
// default) next to a copy of the promtool unit tests (test/charts/alerts/*.test.yaml).
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { alertRules } from "../../infrastructure/observability";

/** es1:licenseWarningDays when unset (config/customers.ts); the unit tests expect this window. */
const DEFAULT_WARNING_DAYS = 30;

function write(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  // Backups on, with es1:backup.postgresql.schedule at its default (daily): es1-backup.test.yaml.
  const groups = alertRules({ licenseWarningDays: DEFAULT_WARNING_DAYS, backupIntervalSeconds: 86400 });
  fs.writeFileSync(
    path.join(dir, "es1-alerts.rules.yaml"),
    yaml.dump({ groups }, { lineWidth: -1, noRefs: true }),
  );
  const tests = path.join(__dirname, "alerts");
  for (const f of fs.readdirSync(tests).filter((x) => x.endsWith(".test.yaml")))
    fs.copyFileSync(path.join(tests, f), path.join(dir, f));
}

const [command, dir] = process.argv.slice(2);
if (command !== "write" || !dir) {
  process.stderr.write("usage: ts-node test/charts/alerts.ts write <dir>\n");
  process.exit(2);
}
write(dir);
