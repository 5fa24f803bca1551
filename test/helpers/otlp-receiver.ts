import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** How the receiver answers one request. */
export interface Reply {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** Wait this long before answering. */
  delayMs?: number;
}

interface OtlpKeyValue {
  key: string;
  value?: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
}

export interface OtlpLogRecordJson {
  eventName?: string;
  severityNumber?: number;
  attributes?: OtlpKeyValue[];
  body?: unknown;
}

export interface ReceivedRequest {
  /** ms since the receiver started. */
  at: number;
  status: number;
  records: number;
}

/**
 * A local OTLP/HTTP logs receiver for tests (JSON encoding, as `@opentelemetry/exporter-logs-otlp-http`
 * sends). It counts accepted records by their `audit.id` attribute and can be told to fail, to be
 * slow, or to be down.
 */
export class OtlpReceiver {
  /** `audit.id` → how many times it was accepted (more than 1 = a duplicate, fine for at-least-once). */
  readonly ids = new Map<string, number>();
  /** Accepted records, duplicates included. */
  accepted = 0;
  readonly requests: ReceivedRequest[] = [];
  /** Records kept whole because `keep` said so. */
  readonly kept: OtlpLogRecordJson[] = [];
  /** Decides the answer to request number `n` (0-based). Default: 200 at once. */
  reply: (n: number) => Reply = () => ({});
  /** Which records to keep whole (in `kept`). */
  keep: (record: OtlpLogRecordJson) => boolean = () => false;
  /**
   * Records the receiver refuses, as a collector does a value it cannot parse: a request holding
   * one is answered 400 as a whole. Default: `doubleValue: null` anywhere (JSON's NaN/Infinity).
   */
  refuse: (record: OtlpLogRecordJson) => boolean = (record) => JSON.stringify(record).includes('"doubleValue":null');
  /** Records refused (each time a request holding them was answered 400). */
  refused = 0;
  readonly #server = createServer((req, res) => this.#handle(req, res));
  readonly #t0 = Date.now();
  #port = 0;
  #count = 0;
  #listening = false;

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/v1/logs`;
  }

  get unique(): number {
    return this.ids.size;
  }

  get duplicates(): number {
    return this.accepted - this.ids.size;
  }

  /** Listens on 127.0.0.1: a random port the first time, the same port after down(). */
  async up(): Promise<this> {
    if (this.#listening) return this;
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#port, "127.0.0.1", () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#listening = true;
    return this;
  }

  /** Stops listening and cuts open connections: clients see connection refused / reset. */
  async down(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  close(): Promise<void> {
    return this.down();
  }

  /** Resolves true once every id is accepted, false after `timeoutMs`. */
  async waitFor(ids: Iterable<string> | number, timeoutMs: number): Promise<boolean> {
    const wanted = typeof ids === "number" ? undefined : [...ids];
    const done = () => (wanted ? wanted.every((id) => this.ids.has(id)) : this.ids.size >= (ids as number));
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
    return true;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const n = this.#count++;
      let { status = 200, headers = {}, delayMs = 0 } = this.reply(n);
      if (status >= 200 && status < 300) {
        const bad = this.#records(Buffer.concat(chunks).toString("utf8")).filter((r) => this.refuse(r)).length;
        if (bad > 0) {
          status = 400;
          this.refused += bad;
        }
      }
      const answer = () => {
        let records = 0;
        if (status >= 200 && status < 300) {
          if (!String(req.headers["content-type"]).includes("json")) {
            res.writeHead(415).end();
            return;
          }
          records = this.#accept(Buffer.concat(chunks).toString("utf8"));
        }
        this.requests.push({ at: Date.now() - this.#t0, status, records });
        if (res.destroyed) return;
        res.writeHead(status, { "content-type": "application/json", ...headers }).end(status < 300 ? "{}" : "");
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  }

  #records(text: string): OtlpLogRecordJson[] {
    let body: { resourceLogs?: Array<{ scopeLogs?: Array<{ logRecords?: OtlpLogRecordJson[] }> }> };
    try {
      body = JSON.parse(text);
    } catch {
      return [];
    }
    return (body.resourceLogs ?? []).flatMap((rl) => (rl.scopeLogs ?? []).flatMap((sl) => sl.logRecords ?? []));
  }

  #accept(text: string): number {
    let records = 0;
    for (const record of this.#records(text)) {
      records++;
      this.accepted++;
      const id = record.attributes?.find((a) => a.key === "audit.id")?.value?.stringValue;
      if (id !== undefined) this.ids.set(id, (this.ids.get(id) ?? 0) + 1);
      if (this.keep(record)) this.kept.push(record);
    }
    return records;
  }
}

export async function startReceiver(): Promise<OtlpReceiver> {
  return new OtlpReceiver().up();
}

/** A record attribute's value from OTLP JSON. */
export function attributeOf(record: OtlpLogRecordJson, key: string): unknown {
  const value = record.attributes?.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue ?? value.doubleValue;
}
