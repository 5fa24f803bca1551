/**
 * What `npm pack` puts in the tarball users install: the built package, its docs, LICENSE and the
 * collector's configs; never binaries, build caches, sources or tests, whatever the working tree
 * holds (the collector build leaves ~90 MB of binaries and caches under collector/).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tarball } from "./helpers/consumer.js";

/** `tar -tvzf`: path → size in bytes. */
function contents(path: string): Map<string, number> {
  const listing = execFileSync("tar", ["-tvzf", path], { encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
  const files = new Map<string, number>();
  for (const line of listing.trim().split("\n")) {
    const cols = line.trim().split(/\s+/);
    files.set(cols.slice(5).join(" ").replace(/^package\//, ""), Number(cols[2]));
  }
  return files;
}

describe("the packed tarball", () => {
  const path = tarball();
  const files = contents(path);
  const names = [...files.keys()];

  it("holds LICENSE, README, package.json and every entry point's JS and types", () => {
    for (const f of ["LICENSE", "README.md", "package.json", "dist/cli/index.js"]) expect(names).toContain(f);
    const pkg = JSON.parse(execFileSync("tar", ["-xzOf", path, "package/package.json"], { encoding: "utf8" })) as {
      exports: Record<string, string | Record<string, string>>;
      license: string;
    };
    expect(pkg.license).toBe("MIT");
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string") continue;
      expect(names, `${subpath} types`).toContain(target.types.replace(/^\.\//, ""));
      expect(names, `${subpath} js`).toContain(target.default.replace(/^\.\//, ""));
    }
  });

  it("ships no binaries, caches, sources, tests or repository tooling", () => {
    const forbidden = [
      /^collector\/(bin|\.cache|loki\/build|scripts)\//,
      /^src\//,
      /^test\//,
      /^bench\//,
      /^examples\//,
      /^scripts\//,
      /^\.tmp\//,
      /^\.otel-auth-audit\//,
      /\.test\.[cm]?[jt]s$/,
      /(^|\/)node_modules\//,
      /\.tsbuildinfo$/,
      /^(\.ci|\.github)\//,
    ];
    for (const name of names) for (const re of forbidden) expect(name, `${name} matches ${re}`).not.toMatch(re);
    // nothing that looks like an executable blob: every shipped file is text we wrote
    for (const [name, size] of files) expect(size, `${name} is ${size} bytes`).toBeLessThan(256 * 1024);
  });

  it("stays small: under 1 MB packed, 3 MB unpacked", () => {
    expect(statSync(path).size).toBeLessThan(2 ** 20);
    const unpacked = [...files.values()].reduce((a, b) => a + b, 0);
    expect(unpacked).toBeLessThan(3 * 2 ** 20);
  });

  it("imports, in its JS and its .d.ts, only packages it declares (dependencies, peers) and Node's own", () => {
    const dir = mkdtempSync(join(tmpdir(), "otel-auth-audit-tarball-"));
    try {
      execFileSync("tar", ["-xzf", path, "-C", dir]);
      const pkg = JSON.parse(readFileSync(join(dir, "package/package.json"), "utf8")) as {
        dependencies: Record<string, string>;
        peerDependencies: Record<string, string>;
      };
      const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)]);
      const builtin = new Set(builtinModules);
      const undeclared = new Set<string>();
      const files = readdirSync(join(dir, "package/dist"), { recursive: true, encoding: "utf8" }).filter((f) => /\.(js|d\.ts)$/.test(f));
      expect(files.length).toBeGreaterThan(20);
      for (const file of files) {
        const text = readFileSync(join(dir, "package/dist", file), "utf8");
        for (const m of text.matchAll(/(?:from\s+|import\(\s*)["']([^"'.][^"']*)["']/g)) {
          const spec = m[1];
          const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
          if (spec.startsWith("node:") || builtin.has(name) || declared.has(name)) continue;
          undeclared.add(`${name} (in dist/${file})`);
        }
      }
      expect([...undeclared]).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
