/**
 * The TypeScript of README.md, as files: each ```ts block is one file. A block whose first line is
 * a path comment (`// lib/auth.ts`) is that file of the app; any other block is a file of its own
 * (`readme/block-<n>.ts`). Every block must compile as it is shown.
 */
export interface Snippet {
  path: string;
  code: string;
  /** 1-based line of the block in README.md. */
  line: number;
}

const FENCE = /^```(ts|typescript|tsx)\s*$/;
const PATH_COMMENT = /^\/\/ ([\w@.[\]/-]+\.tsx?)(\s.*)?$/;

export function readmeSnippets(readme: string): Snippet[] {
  const lines = readme.split("\n");
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE.test(lines[i])) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end].startsWith("```")) end++;
    const body = lines.slice(start, end);
    const named = PATH_COMMENT.exec(body[0] ?? "");
    out.push({ path: named ? named[1] : `readme/block-${start}.ts`, code: `${body.join("\n")}\n`, line: start });
    i = end;
  }
  return out;
}
