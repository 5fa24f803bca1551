#!/usr/bin/env node
import { runVerify, VERIFY_USAGE } from "./verify.js";

const USAGE = `usage: otel-auth-audit <command> [options]
commands:
  verify   verify the hash chains of exported audit records

${VERIFY_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "verify":
      return runVerify(rest);
    case undefined:
    case "-h":
    case "--help":
    case "help":
      process.stdout.write(USAGE + "\n");
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`otel-auth-audit: unknown command ${command}\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`otel-auth-audit: ${(error as Error)?.message ?? String(error)}\n`);
    process.exitCode = 2;
  },
);
