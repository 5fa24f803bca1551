#!/usr/bin/env node
// Keeps tests on the public API only where the API is public: every name a test (or bench) file
// imports from `otel-auth-audit` or one of its subpaths is checked against what that entry point
// really exports. A name another entry exports moves to that entry (`verifyRecords` →
// `otel-auth-audit/verify`); an internal name becomes a relative import of the file that declares
// it (`jcs` → `../src/chain/canonical.js`). Idempotent: run it again after moving exports around.
//
//   node scripts/relative-test-imports.mjs [--check] [dirs…]    (default dirs: test bench)
//
// --check rewrites nothing and exits 1 when a file would change (for CI).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const check = args.includes("--check");
const dirs = args.filter((a) => !a.startsWith("--"));
if (dirs.length === 0) dirs.push("test", "bench");

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const SOURCE_CONDITION = "otel-auth-audit:source";
/** specifier → absolute source entry file */
const entries = new Map();
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target !== "object" || !target[SOURCE_CONDITION]) continue;
  entries.set(pkg.name + subpath.slice(1), resolve(root, target[SOURCE_CONDITION]));
}

const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return d.name === "node_modules" ? [] : walk(path);
    return /\.(m?ts|tsx)$/.test(d.name) && !d.name.endsWith(".d.ts") ? [path] : [];
  });

const srcFiles = walk(join(root, "src"));
const program = ts.createProgram(srcFiles, {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2023,
  customConditions: [SOURCE_CONDITION],
  noEmit: true,
  skipLibCheck: true,
});
const checker = program.getTypeChecker();

const exportsOf = (file) => {
  const sf = program.getSourceFile(file);
  const symbol = sf && checker.getSymbolAtLocation(sf);
  return symbol ? checker.getExportsOfModule(symbol) : [];
};
const declaringFile = (symbol) => {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  return target.declarations?.[0]?.getSourceFile().fileName;
};

/** specifier → names it exports */
const publicNames = new Map([...entries].map(([spec, file]) => [spec, new Set(exportsOf(file).map((s) => s.name))]));
/** name → the src file that declares it (for names no entry exports) */
const declaredIn = new Map();
const ambiguous = new Set();
for (const file of srcFiles) {
  for (const symbol of exportsOf(file)) {
    const at = declaringFile(symbol);
    if (!at) continue;
    const seen = declaredIn.get(symbol.name);
    if (seen && resolve(seen) !== resolve(at)) ambiguous.add(symbol.name);
    else declaredIn.set(symbol.name, at);
  }
}

/** The entry a specifier names: a package specifier, or a relative import of an entry's source file. */
function entryOf(spec, fromFile) {
  if (entries.has(spec)) return spec;
  if (!spec.startsWith(".")) return undefined;
  const file = resolve(dirname(fromFile), spec).replace(/\.js$/, ".ts");
  for (const [name, entryFile] of entries) if (entryFile === file) return name;
  return undefined;
}

/** Where a name imported from `spec` should come from, as seen from `fromFile`. */
function home(name, spec, fromFile) {
  const entry = entryOf(spec, fromFile);
  if (publicNames.get(entry)?.has(name)) return spec;
  // a public name of another entry: by package name, unless the file imports sources relatively
  if (!spec.startsWith(".")) for (const [other, names] of publicNames) if (names.has(name)) return other;
  if (ambiguous.has(name)) throw new Error(`${name} is declared in more than one src file: import it by hand in ${fromFile}`);
  const at = declaredIn.get(name);
  if (!at) throw new Error(`${name} (imported from ${spec} in ${fromFile}) is exported by no src file`);
  let rel = relative(dirname(fromFile), at).split(sep).join("/").replace(/\.tsx?$/, ".js");
  if (!rel.startsWith(".")) rel = `./${rel}`;
  return rel;
}

let changed = 0;
const problems = [];
for (const file of dirs.flatMap((d) => walk(resolve(root, d)))) {
  const text = readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edits = [];
  const visit = (node) => {
    // import { a, type B } from "otel-auth-audit…"
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && entryOf(node.moduleSpecifier.text, file)) {
      const spec = node.moduleSpecifier.text;
      const clause = node.importClause;
      const named = clause?.namedBindings;
      if (!clause || clause.name || !named || !ts.isNamedImports(named)) {
        if (named && ts.isNamespaceImport(named)) problems.push(`${relative(root, file)}: namespace import of ${spec}: not rewritten`);
        return;
      }
      const groups = new Map();
      for (const el of named.elements) {
        const name = (el.propertyName ?? el.name).text;
        const to = home(name, spec, file);
        if (!groups.has(to)) groups.set(to, []);
        groups.get(to).push(el.getText(sf));
      }
      if (groups.size === 1 && groups.has(spec)) return;
      const typeOnly = clause.isTypeOnly ? "type " : "";
      const lines = [...groups].map(([to, names]) => `import ${typeOnly}{ ${names.join(", ")} } from "${to}";`);
      edits.push({ start: node.getStart(sf), end: node.getEnd(), text: lines.join("\n") });
      return;
    }
    // const { a, b } = await import("otel-auth-audit…")
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (!arg || !ts.isStringLiteral(arg) || !entryOf(arg.text, file)) return ts.forEachChild(node, visit);
      let decl = node.parent;
      if (decl && ts.isAwaitExpression(decl)) decl = decl.parent;
      if (!decl || !ts.isVariableDeclaration(decl) || !ts.isObjectBindingPattern(decl.name)) {
        problems.push(`${relative(root, file)}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}: import("${arg.text}") not destructured: not checked`);
        return;
      }
      const names = decl.name.elements.map((e) => (e.propertyName ?? e.name).getText(sf));
      const homes = new Set(names.map((n) => home(n, arg.text, file)));
      if (homes.size === 1 && homes.has(arg.text)) return;
      if (homes.size > 1) {
        problems.push(`${relative(root, file)}: import("${arg.text}") of ${names.join(", ")} spans ${[...homes].join(", ")}: split it by hand`);
        return;
      }
      edits.push({ start: arg.getStart(sf), end: arg.getEnd(), text: `"${[...homes][0]}"` });
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  if (edits.length === 0) continue;
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  changed++;
  console.log(`${check ? "would rewrite" : "rewrote"} ${relative(root, file)} (${edits.length} import${edits.length > 1 ? "s" : ""})`);
  if (!check) writeFileSync(file, out);
}
for (const p of problems) console.error(`note: ${p}`);
console.log(`${changed} file(s) ${check ? "to rewrite" : "rewritten"}`);
if (check && changed > 0) process.exitCode = 1;
