import * as fs from "fs";
import * as path from "path";

function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no Pulumi.yaml above ${start}`);
  }
}

/**
 * The project directory (where Pulumi.yaml is), wherever the code runs from: the Pulumi engine
 * and its plugins run there, so chart paths are made relative to it.
 */
export const PROJECT_ROOT = findProjectRoot(__dirname);
