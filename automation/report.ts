// What a stack operation reports: change counts per resource type (from the engine's events), the
// stack outputs with every secret masked, the resources that failed and the exit code a pipeline
// acts on. Pure functions over engine events and errors, so they are unit-tested without an engine.
import {
  CommandError,
  ConcurrentUpdateError,
  EngineEvent,
  OpMap,
  OpType,
  OutputMap,
  StackNotFoundError,
} from "@pulumi/pulumi/automation";
import { UsageError } from "./commands/common";

/** The stack operations of the `es1` command. */
export const STACK_OPERATIONS = ["preview", "up", "refresh", "destroy", "outputs"] as const;
export type StackOperation = (typeof STACK_OPERATIONS)[number];

/** Exit codes of every stack command; documented in docs/pipelines.md. */
export const EXIT_SUCCESS = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_LOCKED = 3;
export const EXIT_CHANGES = 4;
/** The run succeeded, but a customer with a refused license was held back as deployed. */
export const EXIT_HELD = 5;
export type ExitCode =
  | typeof EXIT_SUCCESS
  | typeof EXIT_FAILED
  | typeof EXIT_USAGE
  | typeof EXIT_LOCKED
  | typeof EXIT_CHANGES
  | typeof EXIT_HELD;

/** What replaces a secret value in outputs. */
export const SECRET_MASK = "[secret]";

/** Plain JSON, as written to the report. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface FailedResource {
  urn: string;
  type: string;
  /** The provider's error messages for this resource, one per line. */
  error: string;
}

export type OperationStatus = "succeeded" | "failed" | "cancelled";

/** The one JSON document `es1 <operation> --json` writes to stdout. */
export interface OperationReport {
  operation: StackOperation | "render";
  /** The stack name as given, or null when the command line was unusable. */
  stack: string | null;
  status: OperationStatus;
  exitCode: ExitCode;
  /** Per resource type, how many resources each operation touched (`same` included). */
  changes: Record<string, OpMap>;
  /** The engine's totals (`create`, `update`, `same`, …); `{}` for `outputs`. */
  summary: OpMap;
  /** Wall time of the operation, seconds. */
  durationSeconds: number;
  /** Stack outputs after the operation; every secret (at any depth) is "[secret]". */
  outputs: Record<string, JsonValue>;
  failed: FailedResource[];
  /** Errors not tied to one resource (configuration, lock, program), and why exit is not 0. */
  errors: string[];
  /**
   * Customers whose license was refused: `held` ones keep their platform exactly as deployed,
   * `not-deployed` ones were never deployed and are not (exit 5 when any, see docs/licensing.md).
   */
  customersHeld?: HeldCustomer[];
  /**
   * `up` only: the backup taken before a risky upgrade (docs/backup.md), with what made the
   * upgrade risky; absent when the run changed no stateful component's chart or major version.
   */
  preUpgradeBackup?: {
    changes: string[];
    /** The first backup taken (PostgreSQL's when its release changed). */
    backup?: string;
    phase?: string;
    /** Every backup taken, one per component whose release changed. */
    backups?: { component: string; name: string; phase: string }[];
    skipped?: string;
  };
}

export interface HeldCustomer {
  customer: string;
  /** `es1:licenses.<customer>`. */
  key: string;
  status: "held" | "not-deployed";
  /** The license gate's reason and what happens to the platform. */
  reason: string;
}

/** The program's warning for a customer it holds back (program.ts), read back into the report. */
const HELD_WARNING = /^customer '([a-z0-9-]+)' is (held back|not deployed): ([\s\S]*)$/;

/** A held customer from one warning of the program, or undefined for any other warning. */
export function heldCustomer(message: string): HeldCustomer | undefined {
  const m = HELD_WARNING.exec(message.trim());
  if (!m) return undefined;
  return {
    customer: m[1],
    key: `es1:licenses.${m[1]}`,
    status: m[2] === "held back" ? "held" : "not-deployed",
    reason: m[3],
  };
}

// ---------------------------------------------------------------------------------------------
// Secrets

/** Pulumi's marker for a secret value in serialized property values (`{<sig>: <secret>, ...}`). */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";
/** What the engine puts where a value is not known before the update (preview). */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function isSecretSignature(v: unknown): boolean {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    (v as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG_VALUE
  );
}

/**
 * Replaces every secret in a serialized value by `placeholder`: Pulumi secret envelopes (whatever
 * they hold: plaintext, ciphertext or a mask) and the CLI's own "[secret]" mask. Unknown values
 * become `unknown` when given. Non-JSON leaves (undefined, functions) become null.
 */
export function maskSecrets(value: unknown, placeholder: string = SECRET_MASK, unknown?: string): JsonValue {
  if (isSecretSignature(value) || value === SECRET_MASK) return placeholder;
  if (unknown !== undefined && value === UNKNOWN_VALUE) return unknown;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, placeholder, unknown));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskSecrets(v, placeholder, unknown);
    return out;
  }
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  return null;
}

/**
 * Masks an SDK OutputMap (`stack.outputs()`, `UpResult.outputs`): a secret output becomes
 * "[secret]", and secrets nested in a non-secret output are masked too.
 */
export function maskOutputMap(outputs: OutputMap): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, o] of Object.entries(outputs)) out[k] = o.secret ? SECRET_MASK : maskSecrets(o.value);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Engine events

/** Steps of a replacement that Pulumi itself counts as one `replace`. */
const REPLACEMENT_PARTS: ReadonlySet<OpType> = new Set<OpType>([
  "create-replacement",
  "delete-replaced",
  "discard-replaced",
]);

interface ResourceSteps {
  type: string;
  pre: Set<OpType>;
  done: Set<OpType>;
}

/**
 * Collects what a report needs from the engine events of one operation. Pass `onEvent` to the
 * SDK (`stack.up({ onEvent })`); the same resource may be reported several times (a component's
 * outputs, preview steps), so each resource counts once per operation kind.
 */
export class EventCollector {
  private readonly resources = new Map<string, ResourceSteps>();
  private readonly failures = new Map<string, string>();
  private readonly diagnostics: { urn?: string; message: string }[] = [];
  private readonly heldBack = new Map<string, HeldCustomer>();
  private summaryEvent?: { resourceChanges: OpMap; durationSeconds: number };

  readonly onEvent = (event: EngineEvent): void => {
    const step = event.resourcePreEvent ?? event.resOutputsEvent;
    if (step) {
      const { urn, type, op } = step.metadata;
      let r = this.resources.get(urn);
      if (!r) {
        r = { type, pre: new Set(), done: new Set() };
        this.resources.set(urn, r);
      }
      (event.resourcePreEvent ? r.pre : r.done).add(op);
    }
    if (event.resOpFailedEvent) {
      const { urn, type } = event.resOpFailedEvent.metadata;
      this.failures.set(urn, type);
    }
    const d = event.diagnosticEvent;
    if (d && d.severity === "error") {
      this.diagnostics.push({ urn: d.urn, message: d.message.trim() });
    }
    const held = d && d.severity === "warning" ? heldCustomer(d.message) : undefined;
    if (held) this.heldBack.set(held.customer, held);
    if (event.summaryEvent) {
      this.summaryEvent = {
        resourceChanges: event.summaryEvent.resourceChanges ?? {},
        durationSeconds: event.summaryEvent.durationSeconds,
      };
    }
  };

  /**
   * Per resource type, the operations performed (or, in a preview, planned). A resource counts
   * under the operation the engine finished it with; one that never finished (it failed, or the
   * run stopped) under the operation that was started.
   */
  changes(): Record<string, OpMap> {
    const out: Record<string, OpMap> = {};
    for (const r of this.resources.values()) {
      const ops = r.done.size > 0 ? r.done : r.pre;
      const counted = ops.has("replace") ? [...ops].filter((op) => !REPLACEMENT_PARTS.has(op)) : [...ops];
      const byOp = (out[r.type] ??= {});
      for (const op of counted) byOp[op] = (byOp[op] ?? 0) + 1;
    }
    return sortKeys(out);
  }

  /** Totals from the engine's summary event, or the sum of `changes()` when none arrived. */
  summary(): OpMap {
    if (this.summaryEvent) return { ...this.summaryEvent.resourceChanges };
    const total: OpMap = {};
    for (const byOp of Object.values(this.changes()))
      for (const [op, n] of Object.entries(byOp) as [OpType, number][]) total[op] = (total[op] ?? 0) + n;
    return total;
  }

  /** Resources whose operation failed, each with the error diagnostics reported for it. */
  failed(): FailedResource[] {
    const out: FailedResource[] = [];
    for (const [urn, type] of this.failures) {
      const messages = unique(this.diagnostics.filter((d) => d.urn === urn).map((d) => d.message));
      out.push({ urn, type, error: messages.join("\n") || "the operation failed (no diagnostic)" });
    }
    return out.sort((a, b) => a.urn.localeCompare(b.urn));
  }

  /** Customers the program held back or left out for a refused license, by name. */
  held(): HeldCustomer[] {
    return [...this.heldBack.values()].sort((a, b) => a.customer.localeCompare(b.customer));
  }

  /** Error diagnostics that are not about a failed resource (program, configuration, engine). */
  errors(): string[] {
    return unique(
      this.diagnostics
        .filter((d) => d.urn === undefined || !this.failures.has(d.urn))
        .map((d) => d.message)
        .filter((m) => m !== ""),
    );
  }
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

/** Whether an operation's totals show any change (anything but unchanged resources and reads). */
export function hasChanges(summary: OpMap): boolean {
  return Object.entries(summary).some(([op, n]) => op !== "same" && op !== "read" && (n ?? 0) > 0);
}

// ---------------------------------------------------------------------------------------------
// Errors and exit codes

/** `--expect-no-changes` was given and the operation found (or made) changes. */
export class UnexpectedChangesError extends Error {
  constructor(readonly summary: OpMap) {
    super(
      `changes were found but --expect-no-changes was given: ${Object.entries(summary)
        .filter(([op]) => op !== "same")
        .map(([op, n]) => `${op} ${n}`)
        .join(", ")}`,
    );
    this.name = "UnexpectedChangesError";
  }
}

/** A `--set` value the Pulumi CLI refused to store (bad key or path syntax). */
export class ConfigSetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigSetError";
  }
}

const LOCKED = [
  /the stack is currently locked by/,
  /\[409\] Conflict/,
  /Another update is currently in progress/,
];
const CONFIG_OR_USAGE = [
  /Invalid stack configuration/,
  /no stack named .* found/,
  /passphrase must be set/,
  /incorrect passphrase/,
  /missing required configuration variable/,
];

/** The exit code for an error thrown by a stack operation or by the command around it. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof ConcurrentUpdateError) return EXIT_LOCKED;
  if (error instanceof UnexpectedChangesError) return EXIT_CHANGES;
  if (error instanceof StackNotFoundError || error instanceof UsageError || error instanceof ConfigSetError)
    return EXIT_USAGE;
  if (error instanceof Error && (error.name === "ConfigErrors" || error.name === "ConfigError"))
    return EXIT_USAGE;
  const message = error instanceof Error ? error.message : String(error);
  if (LOCKED.some((re) => re.test(message))) return EXIT_LOCKED;
  if (CONFIG_OR_USAGE.some((re) => re.test(message))) return EXIT_USAGE;
  return EXIT_FAILED;
}

/** The exit code of a failed run from the errors its events reported (before the thrown error). */
export function exitCodeForMessages(messages: string[]): ExitCode | undefined {
  if (messages.some((m) => LOCKED.some((re) => re.test(m)))) return EXIT_LOCKED;
  if (messages.some((m) => CONFIG_OR_USAGE.some((re) => re.test(m)))) return EXIT_USAGE;
  return undefined;
}

/**
 * The part of an error worth showing: for a Pulumi CLI failure, its `error:` lines (the SDK's
 * message repeats the whole command output), otherwise the message itself.
 */
export function errorMessages(error: unknown): string[] {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof CommandError)) return [message];
  const lines = unique(
    message
      .split("\n")
      .map((l) => /^\s*error: (.*)$/.exec(l)?.[1]?.trim())
      .filter((l): l is string => l !== undefined && l !== ""),
  );
  // "update failed" and the like only say that the errors above happened.
  const specific = lines.filter((l) => !/^(update|preview|refresh|destroy) failed$/.test(l));
  if (specific.length > 0) return specific;
  if (lines.length > 0) return lines;
  const stderr = /stderr: ([\s\S]*?)(?:\n err\?:|$)/.exec(message)?.[1]?.trim();
  return [stderr || message];
}

/**
 * Why a Backup or Restore an `es1` command waited for is not done: it failed (with the reason the
 * controller gave), or it was still running when the time was up.
 */
export function notCompletedMessage(
  kind: "Backup" | "Restore",
  entry: { name: string; phase: string; error?: string },
  failed: boolean,
  timeoutSeconds: number,
): string {
  return failed
    ? `${kind} ${entry.name} failed${entry.error ? `: ${entry.error}` : ""}`
    : `${kind} ${entry.name} is still ${entry.phase} after ${timeoutSeconds} s`;
}
