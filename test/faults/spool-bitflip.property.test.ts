import { SeverityNumber } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { diag } from "@opentelemetry/api";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Spool } from "../../src/durable/spool.js";

// One flipped byte anywhere in a segment costs at most the one frame it hits, and is reported.

const RECORDS = 8;
const resource = resourceFromAttributes({ "service.name": "flip" });
const record = (i: number): ReadableLogRecord => ({
  hrTime: [1_800_000_000, i],
  hrTimeObserved: [1_800_000_000, i],
  resource,
  instrumentationScope: { name: "otel-auth-audit", version: "1" },
  eventName: "auth.sign_in.email",
  severityNumber: SeverityNumber.INFO,
  severityText: "INFO",
  body: `record ${i}`,
  attributes: { "audit.id": `id-${i}`, "user.id": `user-${i}` },
  droppedAttributesCount: 0,
});
const options = (directory: string) => ({ directory, segmentBytes: 1 << 20, fsync: "never" as const, fsyncIntervalMillis: 1000 });

let directory: string;
let segmentPath: string;
let image: Buffer;

beforeAll(() => {
  diag.disable();
  directory = mkdtempSync(join(tmpdir(), "oaa-flip-"));
  const spool = new Spool(options(directory));
  for (let i = 0; i < RECORDS; i++) {
    spool.stage(record(i));
    spool.commit();
  }
  spool.close();
  const [segment] = readdirSync(directory).filter((f) => f.endsWith(".seg"));
  segmentPath = join(directory, segment);
  image = readFileSync(segmentPath);
});

afterAll(() => writeFileSync(segmentPath, image));

function readAll(): { ids: string[]; damaged: number } {
  const spool = new Spool(options(directory));
  const ids: string[] = [];
  try {
    for (let batch = spool.read(100); batch; batch = spool.read(100)) for (const r of batch.records) ids.push(String(r.attributes["audit.id"]));
    return { ids, damaged: spool.recovered.damagedFrames };
  } finally {
    spool.close();
  }
}

describe("a flipped byte at every offset of a small spool", () => {
  it("the intact spool reads whole", () => {
    expect(readAll()).toEqual({ ids: Array.from({ length: RECORDS }, (_, i) => `id-${i}`), damaged: 0 });
  });

  it(`loses at most the damaged frame, recovers every other record, and counts the damage (every offset)`, () => {
    const all = Array.from({ length: RECORDS }, (_, i) => `id-${i}`);
    let lostTotal = 0;
    for (let offset = 0; offset < image.length; offset++) {
      for (const xor of [0x01, 0xff]) {
        const damaged = Buffer.from(image);
        damaged[offset] ^= xor;
        writeFileSync(segmentPath, damaged);
        const { ids, damaged: counted } = readAll();
        const lost = all.filter((id) => !ids.includes(id));
        if (lost.length > 1 || counted < 1 || ids.length !== new Set(ids).size) {
          expect.fail(`byte ${offset} ^ ${xor}: lost ${lost.join(",") || "none"}, reported ${counted} damaged frame(s), read ${ids.join(",")}`);
        }
        lostTotal += lost.length;
      }
    }
    // most flips hit a record frame (and cost exactly that record)
    expect(lostTotal).toBeGreaterThan(image.length);
    writeFileSync(segmentPath, image);
  });
});
