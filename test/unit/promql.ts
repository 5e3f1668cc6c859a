// The metric names a PromQL expression reads, and the expressions of chart files (rules and
// Grafana dashboards), for the tests that hold ES1's alerts and dashboards to metrics some target
// of the stack really exposes.

const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "inf",
  "nan",
]);

/** Metric names `expr` reads (selectors, not functions, labels, strings or keywords). */
export function metricNames(expr: string): string[] {
  const bare = expr
    // Go templates of chart files, Grafana variables.
    .replace(/\{\{[\s\S]*?\}\}/g, "")
    .replace(/\$\{?\w+\}?/g, "")
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^{}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    // Grouping clauses go whole: `sum by (x) (` then reads as the function call it is.
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const names = new Set<string>();
  for (const m of bare.matchAll(/(^|[^\w:.])([a-zA-Z_:][\w:]*)(?=\s*(\(?))/g)) {
    const [, before, name] = m;
    const next = bare.slice((m.index ?? 0) + before.length + name.length).trimStart();
    if (next.startsWith("(") || KEYWORDS.has(name) || /^\d/.test(name)) continue;
    names.add(name);
  }
  return [...names];
}

/** The `expr:` values of a YAML rule file (plain or block scalars), and its `record:` names. */
export function ruleExpressions(text: string): { exprs: string[]; records: string[] } {
  const lines = text.split("\n");
  const exprs: string[] = [];
  const records: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const record = /^\s*-?\s*record:\s*(\S+)/.exec(lines[i]);
    if (record) records.push(record[1].replace(/^["']|["']$/g, ""));
    const m = /^(\s*)-?\s*expr:\s*(.*)$/.exec(lines[i]);
    if (!m) continue;
    if (!/^[|>][-+]?$/.test(m[2].trim())) {
      exprs.push(m[2]);
      continue;
    }
    const body: string[] = [];
    const indent = m[1].length;
    while (i + 1 < lines.length && (lines[i + 1].trim() === "" || lines[i + 1].search(/\S/) > indent))
      body.push(lines[++i]);
    exprs.push(body.join("\n"));
  }
  return { exprs, records };
}

/** The `"expr": "…"` strings of Grafana dashboard JSON, wherever it is embedded. */
export function dashboardExpressions(text: string): string[] {
  return [...text.matchAll(/"expr":\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
}
