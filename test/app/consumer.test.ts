/**
 * The package as a user installs it (the packed tarball, `npm install` into a fresh app), never
 * src/: every entry point loads with `import` and with `require` (Node >= 22.12 requires ESM that
 * has no top-level await); the root and the library-agnostic entries load without better-auth;
 * every README TypeScript block and the client plugin's types compile under `moduleResolution`
 * `bundler` and `node16`, strict and not.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createConsumer, dev, node, REPO, run } from "./helpers/consumer.js";
import { readmeSnippets } from "./readme-snippets.js";
// a fixture writer only (a large valid log, built with the chain's own functions); what is tested is the installed CLI
import { writeChainLog } from "../../bench/chain-log.js";

/** Names the issue found public that are internals: none may come back in any entry point. */
const INTERNALS = [
  "jcs",
  "canonicalFromSdk",
  "canonicalFromOtlp",
  "MerkleTree",
  "GENESIS_PREV",
  "AUDIT_LOG_MODEL",
  "bindProcessors",
  "closeChains",
  "defaultSpoolDirectory",
  "validateEventInput",
  "newEventId",
  "readEnvConfig",
  "toAttributes",
];

let app: string;
let subpaths: string[];

/** `import` or `require` of each entry in a fresh Node; prints the value names each one exports. */
async function load(dir: string, how: "import" | "require", specifiers: string[]): Promise<Record<string, string[]>> {
  const script =
    how === "import"
      ? `const out = {}; for (const s of ${JSON.stringify(specifiers)}) out[s] = Object.keys(await import(s)).filter((k) => k !== "default").sort(); console.log(JSON.stringify(out));`
      : `const out = {}; for (const s of ${JSON.stringify(specifiers)}) out[s] = Object.keys(require(s)).filter((k) => k !== "__esModule" && k !== "module.exports").sort(); console.log(JSON.stringify(out));`;
  const ran = await node(how === "import" ? ["--input-type=module", "-e", script] : ["-e", script], { cwd: dir, timeoutMs: 60_000 });
  expect(ran.stderr.replace(/.*ExperimentalWarning.*\n?|.*--trace-warnings.*\n?/g, ""), `${how} wrote to stderr`).toBe("");
  expect(ran.code, ran.stderr).toBe(0);
  return JSON.parse(ran.stdout) as Record<string, string[]>;
}

beforeAll(async () => {
  app = await createConsumer("consumer", [
    dev("better-auth"),
    dev("typescript"),
    dev("@types/node"),
    dev("@opentelemetry/sdk-node"),
    "@opentelemetry/exporter-logs-otlp-http@^0.301.0",
    "pg@^8.23.1",
    "@types/pg@^8.23.1",
    "next-auth@5.0.0-beta.32",
    "next@^16.4.6", // next-auth 5 imports it; the README's auth.ts uses next/headers
  ]);
  const pkg = JSON.parse(readFileSync(join(app, "node_modules/otel-auth-audit/package.json"), "utf8")) as { exports: Record<string, unknown> };
  subpaths = Object.keys(pkg.exports)
    .filter((s) => s !== "./package.json")
    .map((s) => `otel-auth-audit${s.slice(1)}`);
});

describe("module formats", () => {
  it("exposes the planned entry points", () => {
    expect(subpaths.sort()).toEqual(
      [
        "otel-auth-audit",
        "otel-auth-audit/authjs",
        "otel-auth-audit/better-auth",
        "otel-auth-audit/better-auth/client",
        "otel-auth-audit/loki",
        "otel-auth-audit/testing",
        "otel-auth-audit/verify",
      ].sort(),
    );
  });

  it("every entry point loads with import and with require, exporting the same names", async () => {
    const imported = await load(app, "import", subpaths);
    const required = await load(app, "require", subpaths);
    expect(required).toEqual(imported);
    for (const s of subpaths) expect(imported[s].length, `${s} exports nothing`).toBeGreaterThan(0);
    // a root a reader can hold in their head (the models: sdk-logs ~17, the pino instrumentation 3)
    expect(imported["otel-auth-audit"].length).toBeLessThanOrEqual(15);
    expect(imported["otel-auth-audit"]).toEqual(expect.arrayContaining(["setupAudit", "auditProcessors", "createAuditLogger", "RedactionProcessor", "IntegrityProcessor", "DurableLogRecordProcessor"]));
    expect(imported["otel-auth-audit/verify"]).toContain("verifyRecords");
    expect(imported["otel-auth-audit/loki"]).toContain("LokiAuditReader");
    expect(imported["otel-auth-audit/better-auth"]).toEqual(expect.arrayContaining(["auditLog", "auditLogFor"]));
    for (const s of subpaths) for (const name of INTERNALS) expect(imported[s], `${s} exports the internal ${name}`).not.toContain(name);
  });

  it("the root and the library-agnostic entries load in an app without better-auth (an Auth.js app)", async () => {
    const bare = await createConsumer("consumer-no-better-auth", []);
    const agnostic = subpaths.filter((s) => !s.includes("better-auth"));
    const imported = await load(bare, "import", agnostic);
    expect(Object.keys(imported).sort()).toEqual(agnostic.sort());
    await load(bare, "require", agnostic);
    // while the better-auth entry fails loudly, naming the missing package
    const ran = await node(["--input-type=module", "-e", 'await import("otel-auth-audit/better-auth")'], { cwd: bare });
    expect(ran.code).not.toBe(0);
    expect(ran.stderr).toMatch(/better-auth/);
  });

  it("the CLI runs from the installed package", async () => {
    const ran = await run(join(app, "node_modules/.bin/otel-auth-audit"), ["verify", "--help"], { cwd: app });
    expect(ran.stdout + ran.stderr).toMatch(/usage: otel-auth-audit verify/);
  });

  it("the CLI verifies a large log on worker threads from the installed package, and still fails a damaged one", async () => {
    // over 16 MiB: the parallel verifier runs, its workers loaded from the package's own files
    const file = join(app, "large-audit.jsonl");
    const pub = join(app, "large-audit.pub.pem");
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    writeChainLog(file, 14_000, "consumer-key-0123456789", privateKey);
    writeFileSync(pub, publicKey.export({ type: "spki", format: "pem" }));
    expect(statSync(file).size).toBeGreaterThan(16 * 2 ** 20);
    const cli = join(app, "node_modules/.bin/otel-auth-audit");
    const args = ["verify", file, "--key", "consumer-key-0123456789", "--public-key", pub, "--require-closed", "--workers", "2"];
    const ok = await run(cli, args, { cwd: app });
    // a worker that does not start would be reported here (and the log verified on one thread)
    expect(ok.stderr).toBe("");
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(/^OK +chain .*: 14000 records, 14 checkpoints, closed, hmac-sha256/m);
    // one digit of one user id changed
    const text = readFileSync(file, "latin1");
    const at = text.indexOf('"user_4321"');
    writeFileSync(file, text.slice(0, at) + '"user_4322"' + text.slice(at + 11), "latin1");
    const bad = await run(cli, args, { cwd: app });
    expect(bad.code, bad.stdout).toBe(1);
    expect(bad.stdout).toMatch(/^FAIL chain /m);
    rmSync(file);
  });
});

/** The client plugin's types must come through the emitted .d.ts: a wrong call must be an error. */
const CLIENT_TYPES = `import { createAuthClient } from "better-auth/client";
import { auditLogClient } from "otel-auth-audit/better-auth/client";

export const authClient = createAuthClient({ baseURL: "http://localhost:3000", plugins: [auditLogClient()] });

export async function check() {
  const list = await authClient.auditLog.listAuditLogs({ query: { status: "failure", limit: 20 } });
  if (list.data) {
    const total: number = list.data.total;
    const action: string | undefined = list.data.entries[0]?.action;
    void total;
    void action;
  }
  const one = await authClient.auditLog.getAuditLog({ params: { id: "x" } });
  void one.error?.status;
  await authClient.auditLog.insertAuditLog({ action: "report:export", status: "success", metadata: { rows: 1 } });
  // better-auth-audit-logs' client code: status "failed", dates, pagination, data.success
  const failed = await authClient.auditLog.listAuditLogs({ query: { status: "failed", from: new Date(0).toISOString(), to: new Date().toISOString(), limit: 20, offset: 20 } });
  const status: "success" | "failed" | undefined = failed.data?.entries[0]?.status;
  const when: Date | undefined = failed.data?.entries[0]?.createdAt;
  const inserted = await authClient.auditLog.insertAuditLog({ action: "data:export", metadata: { exportedCount: 500 } });
  const stored: boolean | undefined = inserted.data?.success;
  void [status, when, stored];
  // @ts-expect-error limit is a number: proves auditLog is typed, not any
  await authClient.auditLog.listAuditLogs({ query: { limit: "many" } });
  // @ts-expect-error no such action
  await authClient.auditLog.notAnAction();
}
`;

describe.each([
  ["bundler", "esnext", true],
  ["bundler", "esnext", false],
  ["node16", "node16", true],
  ["node16", "node16", false],
] as const)("types from the tarball: moduleResolution %s (module %s), strict %s", (resolution, module, strict) => {
  it("the README's TypeScript and the client plugin's types compile", async () => {
    const dir = join(app, `types-${resolution}-${strict ? "strict" : "loose"}`);
    rmSync(dir, { recursive: true, force: true });
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const snippets = readmeSnippets(readme);
    expect(snippets.length).toBeGreaterThan(5);
    const files = [...snippets, { path: "client-types.ts", code: CLIENT_TYPES, line: 0 }];
    for (const s of files) {
      // node16 ESM wants extensions on the app's own relative imports, and on subpaths of packages
      // without an exports map (next/headers); nothing else changes
      const code =
        resolution === "node16"
          ? s.code
              .replace(/(from |import\()"(\.{1,2}\/[^"]+?)(?<!\.js)"/g, '$1"$2.js"')
              .replace(/"@\/([^"]+?)(?<!\.js)"/g, '"@/$1.js"')
              .replace(/"next\/(headers|server)"/g, '"next/$1.js"')
          : s.code;
      mkdirSync(dirname(join(dir, s.path)), { recursive: true });
      writeFileSync(join(dir, s.path), code);
    }
    const tsconfig = {
      compilerOptions: {
        target: "ES2023",
        lib: ["ES2023", "DOM"],
        module,
        moduleResolution: resolution,
        strict,
        noEmit: true,
        skipLibCheck: true,
        types: ["node"],
        paths: { "@/*": ["./*"] },
      },
      include: ["**/*.ts"],
    };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
    const ran = await node([join(app, "node_modules/typescript/bin/tsc"), "-p", dir], { cwd: app, timeoutMs: 180_000 });
    const where = snippets.map((s) => `${s.path} ← README.md:${s.line}`).join("\n");
    expect(ran.stdout + ran.stderr, `tsc failed; the files came from:\n${where}`).toBe("");
    expect(ran.code).toBe(0);
  });
});
