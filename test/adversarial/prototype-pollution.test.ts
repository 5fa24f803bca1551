/**
 * Prototype pollution → admin (issue #12): flattened metadata keys such as `__proto__.role` sent
 * to POST /audit-log/insert, or in a captured sign-in body, must never reach Object.prototype.
 * Afterwards a plain user still cannot read others' records nor insert admin events, and sign-in
 * still works (on SQLite a polluted `1` became a column and broke it for everyone).
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { fromAttributes } from "../../src/attributes.js";
import { entryFromEvent } from "../../src/store/entry.js";
import { parseJsonSafely, unflatten } from "../../src/safe-keys.js";
import { withoutSecrets } from "../../src/better-auth/request-body.js";
import { BACKENDS } from "../helpers/store-app.js";
import { adversarialApp, expectPrototypesClean, PASSWORD } from "./harness.js";

const FORBIDDEN = ["__proto__", "constructor", "prototype"];
/** A key segment an attacker would try: the forbidden names, empties, digits, ordinary names. */
const segment = fc.oneof(
  fc.constantFrom(...FORBIDDEN, "", "role", "1", "isAdmin", "toString", "valueOf", "hasOwnProperty"),
  fc.string({ maxLength: 6 }),
);
/** A dotted key with at least one forbidden segment somewhere. */
const hostileKey = fc
  .tuple(fc.array(segment, { maxLength: 3 }), fc.constantFrom(...FORBIDDEN), fc.array(segment, { maxLength: 3 }))
  .map(([a, f, b]) => [...a, f, ...b].join("."));
const hostileValue = fc.oneof(fc.constant("admin"), fc.constant(true), fc.integer(), fc.dictionary(fc.constantFrom("role", "1", "polluted"), fc.constant("admin")));

afterEach(() => expectPrototypesClean());

describe("the key helpers (property)", () => {
  it("unflatten never writes through a prototype and drops every hostile key", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.oneof(hostileKey, fc.string({ maxLength: 12 })), hostileValue, { maxKeys: 8 }), (flat) => {
        const { value } = unflatten(flat);
        expectPrototypesClean();
        // no path through the result reaches a shared prototype
        const stack: unknown[] = [value];
        while (stack.length) {
          const node = stack.pop() as Record<string, unknown>;
          expect(Object.getPrototypeOf(node)).toBeNull();
          for (const k of Object.keys(node)) {
            expect(FORBIDDEN).not.toContain(k);
            if (node[k] !== null && typeof node[k] === "object" && Object.getPrototypeOf(node[k]) === null) stack.push(node[k]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("attributes read back (stores, Loki, test finders) and request bodies are prototype-free too", () => {
    fc.assert(
      fc.property(fc.dictionary(hostileKey, hostileValue, { minKeys: 1, maxKeys: 5 }), (flat) => {
        const attributes: Record<string, unknown> = { "audit.action": "x", "audit.outcome": "success" };
        for (const [k, v] of Object.entries(flat)) attributes[`audit.metadata.${k}`] = typeof v === "object" ? JSON.stringify(v) : v;
        const entry = entryFromEvent(fromAttributes(attributes as never, new Date()));
        expect(JSON.stringify(entry.metadata ?? {})).not.toMatch(/__proto__|"constructor"|"prototype"/);
        const body = parseJsonSafely(JSON.stringify(Object.fromEntries(Object.entries(flat).map(([k, v]) => [k.split(".")[0], v]))));
        withoutSecrets(body);
        withoutSecrets(JSON.parse(`{"__proto__":{"role":"admin"},"constructor":{"prototype":{"role":"admin"}}}`));
        expectPrototypesClean();
      }),
      { numRuns: 200 },
    );
  });
});

describe.each(BACKENDS)("through the endpoints on %s", (backend) => {
  it("hostile insert metadata and captured sign-in bodies gain nothing; sign-in keeps working", async () => {
    const app = await adversarialApp(backend, { capture: { requestBody: true } });
    const victim = await app.signUp("victim@example.com");
    const mallory = await app.signUp("mallory@example.com");
    await app.post("/audit-log/insert", { action: "victim:note", status: "success" }, victim.cookie);

    await fc.assert(
      fc.asyncProperty(fc.dictionary(hostileKey, hostileValue, { minKeys: 1, maxKeys: 4 }), async (metadata) => {
        const r = await app.post("/audit-log/insert", { action: "profile:viewed", status: "success", metadata }, mallory.cookie);
        expect(r.status).toBeLessThan(500);
        // unauthenticated: a sign-in with the same keys in its (captured) body, JSON's own __proto__ key included
        const raw = `{"email":"victim@example.com","password":"wrong-password-1","__proto__":{"role":"admin"},${Object.keys(metadata)
          .map((k) => `${JSON.stringify(k)}:"admin"`)
          .join(",")}}`;
        const s = await app.auth.handler(
          new Request("http://localhost:3000/api/auth/sign-in/email", { method: "POST", headers: { "content-type": "application/json", origin: "http://localhost:3000" }, body: raw }),
        );
        expect(s.status).toBeLessThan(500);
        expectPrototypesClean();
      }),
      { numRuns: 6 },
    );

    // no privilege was gained: mallory still reads only her own records and cannot forge admin events
    expect((await app.get(`/audit-log/list?userId=${victim.userId}`, mallory.cookie)).status).toBe(403);
    expect((await app.get("/audit-log/list?all=true", mallory.cookie)).status).toBe(403);
    const own = await app.get("/audit-log/list?limit=500", mallory.cookie);
    expect(own.json.entries.every((e: { userId: string }) => e.userId === mallory.userId)).toBe(true);
    expect((await app.post("/audit-log/insert", { action: "admin:ban-user", status: "success" }, mallory.cookie)).status).toBe(403);
    expect((await app.post("/admin/set-user-password", { userId: victim.userId, newPassword: "owned-password-1" }, mallory.cookie)).status).toBeGreaterThanOrEqual(400);
    // sign-in works for everyone, and the victim's password is unchanged
    expect((await app.post("/sign-in/email", { email: "victim@example.com", password: PASSWORD })).status).toBe(200);
    expect((await app.post("/sign-up/email", { email: "late@example.com", password: PASSWORD, name: "late" })).status).toBe(200);
    // the stored rows hold no forbidden key
    expect(await app.stored()).not.toMatch(/__proto__|\\"constructor\\"|\\"prototype\\"/);
  }, 60_000);
});
