// The fenced code blocks of the documentation, for the tests that hold the docs to what the code
// really prints and to the commands that really work.
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../lib/paths";

export interface FencedBlock {
  /** The info string after the opening fence, e.g. `bash test:local-path`. */
  info: string;
  /** The block's lines, without the indentation of its fence (blocks inside list items). */
  text: string;
  /** 1-based line of the opening fence, for messages. */
  line: number;
  /** The text of the last heading above the block, e.g. `4. Switch it on, preview, deploy`. */
  heading: string;
}

/** Every fenced block of a Markdown file (path relative to the project). */
export function fencedBlocks(relPath: string): FencedBlock[] {
  const lines = fs.readFileSync(path.join(PROJECT_ROOT, relPath), "utf8").split("\n");
  const blocks: FencedBlock[] = [];
  let heading = "";
  for (let i = 0; i < lines.length; i++) {
    const title = /^#+ (.*)$/.exec(lines[i]);
    if (title) heading = title[1];
    const open = /^( *)```(.*)$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1];
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && lines[j].trimEnd() !== `${indent}\`\`\``) {
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
      j++;
    }
    blocks.push({ info: open[2].trim(), text: body.join("\n"), line: i + 1, heading });
    i = j;
  }
  return blocks;
}

/** The blocks whose info string carries `test:<id>` (`bash test:local-path`), in order. */
export function testBlocks(relPath: string, id: string): FencedBlock[] {
  return fencedBlocks(relPath).filter((b) => b.info.split(/\s+/).includes(`test:${id}`));
}
