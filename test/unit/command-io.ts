import { Readable } from "stream";
import { CommandIO } from "../../automation/commands/common";

/** A command's I/O in memory: what it wrote to stdout and stderr, and what it reads. */
export interface Captured {
  io: CommandIO;
  out: () => string;
  err: () => string;
}

export function memoryIO(
  opts: { interactive?: boolean; stdin?: string; env?: Record<string, string> } = {},
): Captured {
  let out = "";
  let err = "";
  return {
    io: {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      stdin: Readable.from(opts.stdin === undefined ? [] : [opts.stdin]),
      env: opts.env ?? {},
      interactive: opts.interactive ?? false,
    },
    out: () => out,
    err: () => err,
  };
}
