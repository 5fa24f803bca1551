import { ExportResultCode, type ExportResult } from "@opentelemetry/core";

/**
 * Store writes one after another, in emit order (a record never races its own re-delivery), each
 * export answered when its write settles; `drained()` waits for every write started so far —
 * the SDK's Simple processor does not wait for its exporter on forceFlush.
 */
export class SerialWrites {
  #tail: Promise<unknown> = Promise.resolve();

  run(write: () => Promise<unknown>, done: (result: ExportResult) => void, onSuccess?: () => void): void {
    this.#tail = this.#tail.then(write).then(
      () => {
        done({ code: ExportResultCode.SUCCESS });
        onSuccess?.();
      },
      (error: unknown) => done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
    );
  }

  async drained(): Promise<void> {
    let tail: Promise<unknown>;
    do {
      tail = this.#tail;
      await tail;
    } while (tail !== this.#tail);
  }
}
