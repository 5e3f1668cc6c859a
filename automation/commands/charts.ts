// `es1 charts pull | push | verify`: the air-gap chart mirror (docs/airgap.md). Progress goes to
// stderr; stdout carries a short summary or, with --json, exactly one JSON document, also on failure.
// Registry credentials come from the environment only and are never printed.
import {
  catalogCharts,
  ChartsError,
  ChartsInputError,
  CHECKSUM_FILE,
  pullCharts,
  pushCharts,
  REGISTRY_PASSWORD_ENV,
  REGISTRY_USERNAME_ENV,
  RegistryCredentials,
  verifyMirror,
} from "../charts";
import {
  Command,
  CommandIO,
  EXIT_INVALID,
  EXIT_OK,
  EXIT_USAGE,
  parseArgs,
  ParsedArgs,
  required,
  selectSubcommand,
  UsageError,
} from "./common";

const USAGE: Record<Sub, string> = {
  pull:
    "es1 charts pull --out <dir> [--charts <name>,<name>...] [--override-repo <upstream>=<url> ...]\n" +
    "                [--plain-http] [--json]",
  push: "es1 charts push --from <dir> --to oci://<host>[:<port>][/<path>] [--plain-http] [--json]",
  verify: "es1 charts verify --dir <dir> [--json]",
};

const HELP = `usage:
  ${USAGE.pull}
  ${USAGE.push}
  ${USAGE.verify}

pull    fetches every chart the catalog pins (or --charts), at its exact version, from its Helm
        repository or OCI registry into <dir> as <chart>-<version>.tgz, verified against the digest
        the repository publishes, with ${CHECKSUM_FILE} (sha256sum -c). <dir> is replaced only when
        every chart succeeded; archives already there that match ${CHECKSUM_FILE} are kept.
        --override-repo fetches an upstream repository from elsewhere (a proxy or a local copy).
push    verifies <dir> against ${CHECKSUM_FILE}, then uploads each chart as helm push does, to
        repository <path>/<chart> tagged with its version. Credentials, when the registry wants
        them: $${REGISTRY_USERNAME_ENV} and $${REGISTRY_PASSWORD_ENV}.
verify  checks <dir> against ${CHECKSUM_FILE} and each archive's Chart.yaml.

OCI registries on localhost/127.0.0.0/8/[::1] are spoken to over plain HTTP, others over HTTPS
unless --plain-http. The catalog's charts:
${wrap(
  catalogCharts().map((c) => `${c.chart} ${c.version}`),
  "  ",
)}
exit codes: 0 ok, 1 a download, upload or verification failed, 2 usage or input error. See docs/airgap.md.
`;

/** Items joined with ", " into lines of at most 100 characters, each starting with `indent`. */
function wrap(items: readonly string[], indent: string): string {
  const lines = [indent];
  for (const item of items) {
    const last = lines.length - 1;
    if (lines[last] !== indent && lines[last].length + item.length + 2 > 100) lines.push(indent);
    lines[lines.length - 1] += `${lines[lines.length - 1] === indent ? "" : ", "}${item}`;
  }
  return lines.join(",\n");
}

type Sub = "pull" | "push" | "verify";

export async function chartsCommand(argv: string[], io: CommandIO): Promise<number> {
  const selected = selectSubcommand("charts", argv, io, HELP, USAGE);
  if (typeof selected === "number") return selected;
  const { sub, rest } = selected;
  const json = rest.includes("--json");
  const subcommands: Record<Sub, Command> = { pull, push, verify };
  try {
    return await subcommands[sub](rest, io);
  } catch (e) {
    const usage = e instanceof UsageError;
    if (!usage && !(e instanceof ChartsError)) throw e;
    const code = usage || e instanceof ChartsInputError ? EXIT_USAGE : EXIT_INVALID;
    if (json) {
      writeJson(io, { command: `charts ${sub}`, status: "failed", exitCode: code, errors: [e.message] });
    } else {
      io.stderr.write(`es1 charts ${sub}: ${e.message}\n${usage ? `usage: ${USAGE[sub]}\n` : ""}`);
    }
    return code;
  }
}

function writeJson(io: CommandIO, doc: unknown): void {
  io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

function noPositionals(args: ParsedArgs): void {
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
}

/** Progress lines on stderr, prefixed so they read apart from other output in a CI log. */
function progress(io: CommandIO): (line: string) => void {
  return (line) => io.stderr.write(`es1 charts: ${line}\n`);
}

/** `--plain-http` forces plain HTTP; without it the library decides per host. */
function plainHttp(args: ParsedArgs): boolean | undefined {
  return args.booleans.has("plain-http") ? true : undefined;
}

async function pull(argv: string[], io: CommandIO): Promise<number> {
  const args = parseArgs(argv, {
    values: ["out"],
    repeatable: ["charts", "override-repo"],
    booleans: ["plain-http", "json"],
  });
  noPositionals(args);
  const out = required(args, "out");
  const names = args.values.get("charts");
  const charts = names?.flatMap((v) => v.split(",").map((n) => n.trim())).filter((n) => n !== "");
  if (names !== undefined && charts?.length === 0) throw new UsageError("--charts names no chart");
  const repoOverrides: Record<string, string> = {};
  for (const spec of args.values.get("override-repo") ?? []) {
    const eq = spec.indexOf("=");
    if (eq <= 0 || eq === spec.length - 1)
      throw new UsageError(`--override-repo '${spec}' is not <upstream>=<url>`);
    repoOverrides[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  const result = await pullCharts({
    out,
    charts,
    repoOverrides,
    plainHttp: plainHttp(args),
    log: progress(io),
  });
  for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
  if (args.booleans.has("json")) {
    writeJson(io, { command: "charts pull", status: "succeeded", exitCode: EXIT_OK, ...result, errors: [] });
  } else {
    io.stdout.write(
      `${result.dir}: ${result.charts.length} charts (${result.downloaded} downloaded, ${result.reused} kept), ` +
        `checked with ${CHECKSUM_FILE}\n` +
        result.charts.map((c) => `  ${c.chart} ${c.version}  ${c.sha256}\n`).join(""),
    );
  }
  return EXIT_OK;
}

/** Registry credentials from the environment: both variables or neither. */
export function credentials(env: CommandIO["env"]): RegistryCredentials | undefined {
  const username = env[REGISTRY_USERNAME_ENV];
  const password = env[REGISTRY_PASSWORD_ENV];
  if (!username && !password) return undefined;
  if (!username || !password) {
    throw new UsageError(
      `set both $${REGISTRY_USERNAME_ENV} and $${REGISTRY_PASSWORD_ENV}, or neither (only one is set)`,
    );
  }
  return { username, password };
}

async function push(argv: string[], io: CommandIO): Promise<number> {
  const args = parseArgs(argv, { values: ["from", "to"], booleans: ["plain-http", "json"] });
  noPositionals(args);
  const from = required(args, "from");
  const to = required(args, "to");
  if (!to.startsWith("oci://")) throw new UsageError(`--to '${to}' is not oci://<host>[:<port>][/<path>]`);
  const result = await pushCharts({
    from,
    to,
    plainHttp: plainHttp(args),
    credentials: credentials(io.env),
    log: progress(io),
  });
  if (args.booleans.has("json")) {
    writeJson(io, { command: "charts push", status: "succeeded", exitCode: EXIT_OK, ...result, errors: [] });
  } else {
    io.stdout.write(
      `${result.to}: ${result.charts.length} charts pushed; set es1:airgap.charts to ${result.to}\n` +
        result.charts.map((c) => `  ${c.ref}:${c.tag}  ${c.digest}\n`).join(""),
    );
  }
  return EXIT_OK;
}

async function verify(argv: string[], io: CommandIO): Promise<number> {
  const args = parseArgs(argv, { values: ["dir"], booleans: ["json"] });
  noPositionals(args);
  const dir = required(args, "dir");
  const archives = verifyMirror(dir);
  if (args.booleans.has("json")) {
    writeJson(io, { command: "charts verify", status: "succeeded", exitCode: EXIT_OK, archives, errors: [] });
  } else {
    io.stdout.write(`${dir}: ${archives.length} archives match ${CHECKSUM_FILE}\n`);
  }
  return EXIT_OK;
}
