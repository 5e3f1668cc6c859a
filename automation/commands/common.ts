// What every `es1` subcommand shares: its I/O (injected, so tests run commands in memory), exit codes
// and a small strict flag parser (no dependency for a dozen flags).

export interface CommandIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  stdin: AsyncIterable<string | Buffer>;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether a person is at the keyboard (stdin is a terminal): commands may ask for confirmation. */
  interactive?: boolean;
  /** Aborted when the process is asked to stop (SIGINT/SIGTERM): running operations cancel cleanly. */
  signal?: AbortSignal;
}

export type Command = (argv: string[], io: CommandIO) => Promise<number>;

export const EXIT_OK = 0;
/** The thing checked is invalid (e.g. a license that does not verify). */
export const EXIT_INVALID = 1;
/** The command line or an input it names is wrong; the user must fix the invocation. */
export const EXIT_USAGE = 2;

/** A mistake in the invocation; the command prints it with its usage and exits EXIT_USAGE. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface FlagSpec {
  /** Flags taking a value (`--name v` or `--name=v`), at most once each. */
  values?: readonly string[];
  /** Flags taking a value that may be given several times. */
  repeatable?: readonly string[];
  /** Flags without a value. */
  booleans?: readonly string[];
}

export interface ParsedArgs {
  values: Map<string, string[]>;
  booleans: Set<string>;
  positionals: string[];
}

/** Parses `argv` against `spec`; an unknown flag, a missing value or a repeated flag is a UsageError. */
export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const single = new Set(spec.values ?? []);
  const repeatable = new Set(spec.repeatable ?? []);
  const booleans = new Set(spec.booleans ?? []);
  const out: ParsedArgs = { values: new Map(), booleans: new Set(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    // `-` alone means stdin, a positional like any other.
    if (!arg.startsWith("--")) {
      if (arg.startsWith("-") && arg !== "-") throw new UsageError(`unknown option '${arg}'`);
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = (eq < 0 ? arg : arg.slice(0, eq)).slice(2);
    if (booleans.has(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      out.booleans.add(name);
      continue;
    }
    if (!single.has(name) && !repeatable.has(name)) throw new UsageError(`unknown option '--${name}'`);
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) value = argv[++i];
    else throw new UsageError(`--${name} needs a value`);
    const seen = out.values.get(name) ?? [];
    if (seen.length > 0 && !repeatable.has(name)) throw new UsageError(`--${name} is given more than once`);
    out.values.set(name, [...seen, value]);
  }
  return out;
}

/** The value of a single-valued flag, if given. */
export function optional(args: ParsedArgs, name: string): string | undefined {
  return args.values.get(name)?.[0];
}

/** The value of a mandatory flag. */
export function required(args: ParsedArgs, name: string): string {
  const v = optional(args, name);
  if (v === undefined || v === "") throw new UsageError(`--${name} is required`);
  return v;
}

/** The first line of `stream` (without its newline); "" at end of input. */
export async function readLine(stream: AsyncIterable<string | Buffer>): Promise<string> {
  let text = "";
  for await (const chunk of stream) {
    text += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    const nl = text.indexOf("\n");
    if (nl >= 0) return text.slice(0, nl).replace(/\r$/, "");
  }
  return text;
}

/** Asks `question` on stderr and reads a yes or no (anything but y/yes is no). */
export async function confirm(io: CommandIO, question: string): Promise<boolean> {
  io.stderr.write(`${question} [y/N] `);
  const answer = (await readLine(io.stdin)).trim().toLowerCase();
  return answer === "y" || answer === "yes";
}

export async function readAll(stream: AsyncIterable<string | Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * The part every `es1 <command> <subcommand>` shares: help, a missing or unknown subcommand, and a
 * subcommand's own --help. Returns the exit code when that settled it, else the subcommand and its
 * arguments.
 */
export function selectSubcommand<S extends string>(
  command: string,
  argv: readonly string[],
  io: CommandIO,
  help: string,
  usage: Record<S, string>,
): number | { sub: S; rest: string[] } {
  const [sub, ...rest] = argv;
  if (sub === "help" || sub === "--help" || sub === "-h") {
    io.stdout.write(help);
    return EXIT_OK;
  }
  if (sub === undefined || !Object.prototype.hasOwnProperty.call(usage, sub)) {
    io.stderr.write(
      `es1 ${command}: ${sub === undefined ? "missing subcommand" : `unknown subcommand '${sub}'`}\n${help}`,
    );
    return EXIT_USAGE;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(`usage: ${usage[sub as S]}\n`);
    return EXIT_OK;
  }
  return { sub: sub as S, rest };
}
