import { diag, SeverityNumber } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanFrames } from "../../src/durable/framing.js";
import { SEGMENT_HEADER } from "../../src/durable/header.js";
import { Spool } from "../../src/durable/spool.js";

// A segment cut short at any offset (a crash mid-write, a full disk, a copy gone wrong) keeps
// every record written whole before the cut, in order, and says how many bytes it cut off.

const RECORDS = 8;
const resource = resourceFromAttributes({ "service.name": "cut" });
const record = (i: number): ReadableLogRecord => ({
  hrTime: [1_800_000_000, i],
  hrTimeObserved: [1_800_000_000, i],
  resource,
  instrumentationScope: { name: "otel-auth-audit", version: "1" },
  eventName: "auth.sign_in.email",
  severityNumber: SeverityNumber.INFO,
  body: `record ${i}`,
  attributes: { "audit.id": `id-${i}`, n: i, ratio: i + 0.5, tags: ["a", `t${i}`] },
  droppedAttributesCount: 0,
});
const options = (directory: string) => ({ directory, segmentBytes: 1 << 20, fsync: "never" as const, fsyncIntervalMillis: 1000 });

let directory: string;
let segmentPath: string;
let image: Buffer;
/** Segment size after each record was committed: record i is whole in any cut ≥ ends[i]. */
const ends: number[] = [];
/** Where each frame (record or dictionary) ends. */
const boundaries = new Set<number>();

beforeAll(() => {
  diag.disable();
  directory = mkdtempSync(join(tmpdir(), "oaa-cut-"));
  const spool = new Spool(options(directory));
  for (let i = 0; i < RECORDS; i++) {
    spool.stage(record(i));
    spool.commit();
    const [segment] = readdirSync(directory).filter((f) => f.endsWith(".seg"));
    segmentPath = join(directory, segment);
    ends.push(readFileSync(segmentPath).length);
  }
  spool.close();
  image = readFileSync(segmentPath);
  scanFrames(image, SEGMENT_HEADER, (frame) => void boundaries.add(frame.end));
});

afterAll(() => rmSync(directory, { recursive: true, force: true }));

function readAll(): { ids: string[]; discarded: number; records: ReadableLogRecord[] } {
  const spool = new Spool(options(directory));
  const records: ReadableLogRecord[] = [];
  try {
    for (let batch = spool.read(100); batch; batch = spool.read(100)) records.push(...batch.records);
    return { ids: records.map((r) => String(r.attributes["audit.id"])), discarded: spool.recovered.discardedBytes, records };
  } finally {
    spool.close();
  }
}

describe("a segment cut short at every offset", () => {
  it("keeps every whole record, in order and intact, and counts what it cut off", () => {
    for (let cut = 0; cut < image.length; cut++) {
      // a fresh directory holding only the cut segment: what a crash leaves
      rmSync(directory, { recursive: true, force: true });
      mkdirSync(directory);
      writeFileSync(segmentPath, image.subarray(0, cut));
      const { ids, discarded, records } = readAll();
      const whole = ends.filter((end) => end <= cut).length;
      const expected = Array.from({ length: whole }, (_, i) => `id-${i}`);
      if (ids.join() !== expected.join()) expect.fail(`cut at ${cut}: read ${ids.join(",")}, expected ${expected.join(",")}`);
      // bytes of a frame cut in half are reported
      if (cut > SEGMENT_HEADER && !boundaries.has(cut) && discarded === 0) expect.fail(`cut at ${cut}: a torn frame, not reported`);
      for (const r of records) {
        const i = Number(String(r.attributes["audit.id"]).slice(3));
        expect(r.attributes).toEqual(record(i).attributes);
        expect(r.body).toBe(`record ${i}`);
      }
    }
    rmSync(directory, { recursive: true, force: true });
    mkdirSync(directory);
    writeFileSync(segmentPath, image);
    expect(readAll().ids).toHaveLength(RECORDS);
  });
});
