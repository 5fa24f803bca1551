import { readFile } from "node:fs/promises";
import { readOtlpJson, type OtlpFlatRecord } from "../verify/otlp.js";

/**
 * Where `verify` reads records from. Each source yields flat OTLP records; a new kind (e.g. Loki
 * with `--loki URL --query …`) is one more implementation picked in `sourcesFromArgs`.
 */
export interface RecordSource {
  /** For messages: a file path, "stdin", a URL. */
  readonly name: string;
  read(): Promise<OtlpFlatRecord[]>;
}

export function fileSource(path: string): RecordSource {
  return { name: path, read: async () => readOtlpJson(await readFile(path, "utf8")) };
}

export function stdinSource(stream: NodeJS.ReadableStream = process.stdin): RecordSource {
  return {
    name: "stdin",
    read: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
      return readOtlpJson(Buffer.concat(chunks).toString("utf8"));
    },
  };
}

/** File paths, or stdin when there are none or a path is "-". */
export function sourcesFromArgs(paths: string[]): RecordSource[] {
  if (paths.length === 0) return [stdinSource()];
  return paths.map((p) => (p === "-" ? stdinSource() : fileSource(p)));
}
