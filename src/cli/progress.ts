/** A one-line progress bar on stderr, drawn only when stderr is a terminal and the input is large. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): { update(done: number, total: number): void; end(): void } {
  const active = Boolean(stream.isTTY);
  let last = 0;
  let drawn = false;
  return {
    update(done, total) {
      if (!active || total < 50_000) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const width = 30;
      const filled = Math.round((done / total) * width);
      stream.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done.toLocaleString("en")}/${total.toLocaleString("en")}`);
      drawn = true;
    },
    end() {
      if (drawn) stream.write("\r\x1b[K");
    },
  };
}
