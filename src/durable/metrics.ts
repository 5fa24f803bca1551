import { metrics, type Counter, type MeterProvider } from "@opentelemetry/api";
import { SCOPE_NAME, VERSION } from "../version.js";

export type DropReason = "overflow" | "rejected" | "io" | "unserializable" | "too_large" | "damaged";

export interface Instruments {
  provider: MeterProvider;
  spooled: Counter;
  exported: Counter;
  retried: Counter;
  dropped: Counter;
  deadLettered: Counter;
}

export interface GaugeSource {
  closed(): boolean;
  bytes(): number;
  records(): number;
  oldestObservedMs(): number | undefined;
}

/**
 * The spool's self-observability: counters and gauges from the configured or current global
 * MeterProvider (a global set after construction is picked up).
 */
export class SpoolMetrics {
  readonly #configured: MeterProvider | undefined;
  readonly #source: GaugeSource;
  #instruments: Instruments | undefined;
  #gaugesOn: MeterProvider | undefined;

  constructor(configured: MeterProvider | undefined, source: GaugeSource) {
    this.#configured = configured;
    this.#source = source;
    this.#registerGauges();
  }

  get now(): Instruments {
    const provider = this.#configured ?? metrics.getMeterProvider();
    if (this.#instruments?.provider === provider) return this.#instruments;
    const meter = provider.getMeter(SCOPE_NAME, VERSION);
    this.#instruments = {
      provider,
      spooled: meter.createCounter("audit.spool.records.spooled", { unit: "{record}", description: "Audit records written to the spool" }),
      exported: meter.createCounter("audit.spool.records.exported", { unit: "{record}", description: "Audit records the exporter accepted" }),
      retried: meter.createCounter("audit.spool.records.retried", { unit: "{record}", description: "Audit records in failed exports, kept for a retry" }),
      dropped: meter.createCounter("audit.spool.records.dropped", {
        unit: "{record}",
        description: "Audit records lost, by reason (overflow, rejected, io, unserializable, too_large, damaged)",
      }),
      deadLettered: meter.createCounter("audit.spool.records.dead_lettered", {
        unit: "{record}",
        description: "Audit records the receiver permanently refused, moved to the dead-letter file",
      }),
    };
    this.#registerGauges();
    return this.#instruments;
  }

  #registerGauges(): void {
    const provider = this.#configured ?? metrics.getMeterProvider();
    if (this.#gaugesOn === provider) return;
    this.#gaugesOn = provider;
    const meter = provider.getMeter(SCOPE_NAME, VERSION);
    const size = meter.createObservableGauge("audit.spool.size", { unit: "By", description: "Bytes of audit spool files on disk" });
    const pending = meter.createObservableGauge("audit.spool.records", { unit: "{record}", description: "Audit records spooled, not yet exported" });
    const age = meter.createObservableGauge("audit.spool.oldest_age", { unit: "s", description: "Age of the oldest audit record not yet exported" });
    const source = this.#source;
    meter.addBatchObservableCallback(
      (result) => {
        if (source.closed()) return;
        const oldest = source.oldestObservedMs();
        result.observe(size, source.bytes());
        result.observe(pending, source.records());
        result.observe(age, oldest === undefined ? 0 : Math.max(0, Date.now() - oldest) / 1000);
      },
      [size, pending, age],
    );
  }
}
