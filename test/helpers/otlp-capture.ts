import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A decoded OTLP/JSON log record, as the OTLP/HTTP exporter sends it. */
export interface OtlpJsonRecord {
  eventName?: string;
  timeUnixNano?: string;
  severityNumber?: number;
  severityText?: string;
  body?: unknown;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
  traceId?: string;
  spanId?: string;
}

/** A local OTLP/HTTP logs receiver on 127.0.0.1 that keeps every JSON request it is sent. */
export async function startOtlpReceiver() {
  const requests: Array<{ path: string; headers: IncomingMessage["headers"]; body: any }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // not JSON: kept raw
      }
      requests.push({ path: req.url ?? "", headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Every log record of every request, flattened, with its scope name. */
    records(): Array<OtlpJsonRecord & { scope?: string; resource?: Record<string, unknown> }> {
      return requests.flatMap((r) =>
        (r.body?.resourceLogs ?? []).flatMap((rl: any) =>
          (rl.scopeLogs ?? []).flatMap((sl: any) =>
            (sl.logRecords ?? []).map((lr: OtlpJsonRecord) => ({ ...lr, scope: sl.scope?.name, resource: rl.resource })),
          ),
        ),
      );
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** An OTLP/JSON attribute list as a plain object. */
export function attributesOf(record: OtlpJsonRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of record.attributes ?? []) {
    out[key] = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.boolValue ?? value.doubleValue ?? value;
  }
  return out;
}
