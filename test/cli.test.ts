import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { KEY, makeLog, publicKey, toOtlpJson } from "./helpers/chain-log.js";

const run = (args: string[], input?: string) => {
  const r = spawnSync("npx", ["tsx", "src/cli/index.ts", ...args], { input, encoding: "utf8", env: { ...process.env, OTEL_AUTH_AUDIT_KEY: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe("otel-auth-audit verify (CLI)", () => {
  const dir = mkdtempSync(join(tmpdir(), "oaa-cli-"));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  let json: string;
  let jsonl: string;
  let tampered: string;
  let pem: string;
  beforeAll(async () => {
    const log = await makeLog({ chains: 2, perChain: 8, checkpointEvery: 4 });
    json = file("logs.json", log.json);
    jsonl = file("logs.jsonl", log.sdk.map((r) => toOtlpJson([r])).join("\n") + "\n");
    tampered = file("tampered.json", log.json.replace('"stringValue":"user-0-3"', '"stringValue":"user-0-X"'));
    pem = file("pub.pem", publicKey.export({ type: "spki", format: "pem" }) as string);
  }, 60_000);

  it("exits 0 on an intact OTLP JSON file and on JSON lines", () => {
    const a = run(["verify", json, "--key", KEY, "--public-key", pem, "--require-closed"]);
    expect(a.stderr).not.toContain("otel-auth-audit");
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^OK +chain .*closed, hmac-sha256$/m);
    expect(a.stdout).toContain("OK\n");
    expect(run(["verify", jsonl, "--key", KEY]).code).toBe(0);
  });

  it("reads stdin", () => {
    expect(run(["verify", "--key", KEY], "\n" + readFileSync(jsonl, "utf8")).code).toBe(0);
  });

  it("exits 1 and names the problem for a tampered file; --json gives the result", () => {
    const text = run(["verify", tampered, "--key", KEY]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/FAIL chain/);
    expect(text.stdout).toMatch(/altered at \d+/);
    const out = run(["verify", tampered, "--key", KEY, "--json"]);
    expect(out.code).toBe(1);
    const result = JSON.parse(out.stdout);
    expect(result.ok).toBe(false);
    expect(result.chains.map((c: { ok: boolean }) => c.ok).sort()).toEqual([false, true]);
    expect(result.problems).toContainEqual(expect.objectContaining({ kind: "altered", level: "error" }));
  });

  it("exits 1 with the wrong key and 2 on a missing file or unknown option", () => {
    expect(run(["verify", json, "--key", "wrong"]).code).toBe(1);
    expect(run(["verify", join(dir, "missing.json"), "--key", KEY]).code).toBe(2);
    expect(run(["verify", "--bogus"]).code).toBe(2);
  });

  it("fails on empty or foreign input unless --allow-empty, and refuses an empty --key", () => {
    for (const text of ["", "{}", "[]"]) {
      expect(run(["verify", file("empty.json", text)]).code, JSON.stringify(text)).toBe(1);
      expect(run(["verify", "--allow-empty", file("empty.json", text)]).code, JSON.stringify(text)).toBe(0);
    }
    for (const text of ["42", '{"foo":1}', "not json"]) expect(run(["verify", file("foreign.json", text)]).code, text).toBe(2);
    const r = run(["verify", json, "--key", ""]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--key is empty/);
  });
});
