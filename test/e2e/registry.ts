// go-containerregistry's registry (scripts/tools.sh target `registry`) for the e2e tests of the
// air-gap chart mirror and bundle: in memory, on a free 127.0.0.1 port, plain HTTP.
import { ChildProcess, spawn } from "child_process";

/** go-containerregistry's in-memory registry on a free localhost port; its request log is kept. */
export async function startRegistry(): Promise<{ port: number; log: string[]; proc: ChildProcess }> {
  const proc = spawn("registry", ["-port", "0"], { stdio: ["ignore", "ignore", "pipe"] });
  const log: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`registry did not start:\n${log.join("\n")}`)), 30000);
    proc.on("error", (e) =>
      reject(new Error(`cannot start 'registry' (bash scripts/tools.sh registry): ${e.message}`)),
    );
    let partial = "";
    proc.stderr?.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      log.push(...lines);
      const m = /serving on port (\d+)/.exec(lines.join("\n"));
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  return { port, log, proc };
}
