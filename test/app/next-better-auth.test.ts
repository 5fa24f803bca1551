/**
 * The consumer stage for better-auth: examples/next-app (Next.js 16 App Router, better-auth 1.7 on
 * PostgreSQL, the audit plugin with its store, setupAudit() in instrumentation.ts) installed from
 * the packed tarball, built with `next build`, run with `next start`, and used through real
 * Chromium. The records must reach our collector and Loki, the user's audit page must show the
 * user's own events and nobody else's, and after SIGTERM the installed CLI's
 * `verify --loki --require-closed` must pass.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { prepareApp, startNext, type NextServer, type PreparedApp } from "./helpers/next-app.js";
import { launchChromium, screenshot, withPage, type Browser, type Page } from "./helpers/next-browser.js";
import { startPostgres, type Postgres } from "./helpers/next-postgres.js";
import { reportFailure } from "./helpers/next-report.js";
import { lokiRecords, startAppStack, waitForLoki, type AppStack, type LokiRecord } from "./helpers/next-stack.js";

const CHAIN_KEY = "next-app-chain-key-0123456789abcdef";
const SECRET = "next-app-better-auth-secret-0123456789abcdef";
const USER_AGENT = "otel-auth-audit-app-test/1.0 (Chromium)";
const run = Date.now().toString(36);
const ada = { name: "Ada", email: `ada-${run}@example.com`, password: `first-Pa55word-${run}`, newPassword: `second-Pa55word-${run}` };
const bob = { name: "Bob", email: `bob-${run}@example.com`, password: `bob-Pa55word-${run}` };
const WRONG_PASSWORD = `wrong-Pa55word-${run}`;
const SELECTOR = `{audit_stream="audit", service_name="next-app"}`;

let pg: Postgres | undefined;
let stack: AppStack | undefined;
let app: PreparedApp | undefined;
let server: NextServer | undefined;
let browser: Browser | undefined;

/** Waits until the expression is true in the page (bounded by the page's default timeout). */
const until = (page: Page, expression: string) => page.waitForFunction(expression);
const statusIs = (page: Page, text: string) => until(page, `document.querySelector("#status")?.textContent === ${JSON.stringify(text)}`);
const messageIs = (page: Page, text: string) => until(page, `document.querySelector("#message")?.textContent === ${JSON.stringify(text)}`);

async function signUp(page: Page, user: { name: string; email: string; password: string }) {
  await page.locator("#sign-up [name=name]").fill(user.name);
  await page.locator("#sign-up [name=email]").fill(user.email);
  await page.locator("#sign-up [name=password]").fill(user.password);
  await page.locator("#sign-up button").click();
  await statusIs(page, `Signed in as ${user.email}`);
}

async function signIn(page: Page, email: string, password: string) {
  await page.locator("#sign-in [name=email]").fill(email);
  await page.locator("#sign-in [name=password]").fill(password);
  await page.locator("#sign-in button").click();
}

/** The rows of the audit page as "action outcome", newest first. */
async function auditRows(page: Page): Promise<string[]> {
  await page.goto(`${server!.url}/audit`);
  await page.locator("#audit-log").waitFor();
  const rows = page.locator("#audit-log tbody tr");
  const out: string[] = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    out.push(`${await row.getAttribute("data-action")} ${await row.getAttribute("data-outcome")}`);
  }
  return out;
}

const actionOf = (r: LokiRecord) => `${r.attributes["audit.action"]} ${r.attributes["audit.outcome"]}`;

beforeAll(async () => {
  const tarball = process.env.OTEL_AUTH_AUDIT_TARBALL;
  if (!tarball) throw new Error("OTEL_AUTH_AUDIT_TARBALL is not set: run through `npm run test:app` (its global setup packs the tarball)");
  // the three take a while each: in parallel, and whatever started is stopped in afterAll
  const [started, stackStarted, prepared] = await Promise.allSettled([startPostgres(), startAppStack("next-app"), prepareApp("next-app", tarball)]);
  if (started.status === "fulfilled") pg = started.value;
  if (stackStarted.status === "fulfilled") stack = stackStarted.value;
  if (prepared.status === "fulfilled") app = prepared.value;
  for (const r of [started, stackStarted, prepared]) if (r.status === "rejected") throw r.reason;
  if (!pg || !stack || !app) throw new Error("unreachable");
  const env = { DATABASE_URL: pg.url, BETTER_AUTH_SECRET: SECRET };
  // the README's step: better-auth's CLI creates its tables and the plugin's auditLog table
  const migrate = await app.npx(["auth", "migrate", "--yes"], env);
  if (migrate.code !== 0) throw new Error(`npx auth migrate failed:\n${migrate.output}`);
  server = await startNext(app, (url) => ({
    ...env,
    BETTER_AUTH_URL: url,
    OTEL_EXPORTER_OTLP_ENDPOINT: stack!.otlpEndpoint,
    OTEL_AUTH_AUDIT_KEY: CHAIN_KEY,
    NEXT_MANUAL_SIG_HANDLE: "true",
  }));
  browser = await launchChromium(app.dir);
});

afterEach(({ task }) => {
  if (task.result?.state !== "fail") return;
  reportFailure("next-better-auth", {
    "next start": () => server?.output() ?? "(not started)",
    "collector and Loki": () => stack?.logs() ?? "(not started)",
    postgres: () => pg?.log() ?? "(not started)",
  });
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await server?.stop("SIGKILL");
  await stack?.stop();
  pg?.stop();
});

describe("Next.js 16 + better-auth on PostgreSQL, from the packed tarball, in Chromium", () => {
  it("a user signs up, signs out, fails a sign-in, signs in and changes the password through the UI", async () => {
    await withPage(browser!, "next-app-ada", { userAgent: USER_AGENT }, async (page) => {
      await page.goto(server!.url);
      await statusIs(page, "Signed out");
      await signUp(page, ada);
      await page.locator("#sign-out").click();
      await statusIs(page, "Signed out");
      await signIn(page, ada.email, WRONG_PASSWORD);
      await messageIs(page, "Sign in failed: INVALID_EMAIL_OR_PASSWORD");
      await signIn(page, ada.email, ada.password);
      await statusIs(page, `Signed in as ${ada.email}`);
      await page.locator("#change-password [name=currentPassword]").fill(ada.password);
      await page.locator("#change-password [name=newPassword]").fill(ada.newPassword);
      await page.locator("#change-password button").click();
      await messageIs(page, "Change password: done");

      // the audit page: the user's own events, newest first, through auditLogClient()
      const rows = await auditRows(page);
      expect(rows).toEqual(["change-password success", "sign-in:email success", "sign-out success", "sign-up:email success"]);
      await screenshot(page, "next-app-audit-log");

      await page.goto(server!.url);
      await page.locator("#sign-out").click();
      await statusIs(page, "Signed out");
    });
  });

  it("another user sees only their own events, and the endpoints refuse them Ada's", async () => {
    const isSignUp = (r: LokiRecord) => r.attributes["audit.action"] === "sign-up:email";
    const adaSignUp = (await waitForLoki(stack!.loki, SELECTOR, (rs) => rs.some(isSignUp))).find(isSignUp)!;
    const adaId = String(adaSignUp.attributes["user.id"]);
    const adaRecord = String(adaSignUp.attributes["audit.id"]);
    await withPage(browser!, "next-app-bob", { userAgent: USER_AGENT }, async (page) => {
      await page.goto(server!.url);
      // same-origin requests with Bob's cookies, as a curious user would make from the console
      const call = (path: string) => page.evaluate<number>(`fetch(${JSON.stringify(`/api/auth/audit-log/${path}`)}).then((r) => r.status)`);
      expect(await call("list")).toBe(401);
      await signUp(page, bob);
      expect(await auditRows(page)).toEqual(["sign-up:email success"]);
      await screenshot(page, "next-app-audit-log-other-user");
      expect(await call(`list?userId=${encodeURIComponent(adaId)}`)).toBe(403);
      expect(await call("list?all=true")).toBe(403);
      expect(await call(encodeURIComponent(adaRecord))).toBe(404);
    });
  });

  it("every record reached the collector and Loki, with the request's context and no secret", async () => {
    const expected = ["sign-up:email success", "sign-out success", "sign-in:email failure", "sign-in:email success", "change-password success", "sign-out success", "sign-up:email success"];
    const records = await waitForLoki(stack!.loki, SELECTOR, (rs) => rs.filter((r) => r.attributes["audit.action"]).length >= expected.length);
    const events = records.filter((r) => r.attributes["audit.action"]);
    expect(events.map(actionOf)).toEqual(expected);
    const failed = events.find((r) => actionOf(r) === "sign-in:email failure")!;
    expect(failed.attributes).toMatchObject({ "error.type": "INVALID_EMAIL_OR_PASSWORD", "audit.severity": "high", "user_agent.original": USER_AGENT, "http.response.status_code": 401 });
    expect(failed.attributes["user.id"]).toBeUndefined();
    const adaId = events[0].attributes["user.id"];
    expect(adaId).toEqual(expect.any(String));
    expect(events.slice(0, 6).filter((r) => r !== failed).map((r) => r.attributes["user.id"])).toEqual(Array(5).fill(adaId));
    expect(events[6].attributes["user.id"]).not.toBe(adaId);
    // every record is on one hash chain, with no gap
    expect(new Set(records.map((r) => r.attributes["audit.chain.id"])).size).toBe(1);
    const seqs = records.map((r) => Number(r.attributes["audit.chain.seq"]));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    // no password, in any record, in any form the line holds
    const text = JSON.stringify(records);
    for (const secret of [ada.password, ada.newPassword, bob.password, WRONG_PASSWORD, SECRET]) expect(text).not.toContain(secret);
  });

  it("SIGTERM closes the chain: the tarball's `otel-auth-audit verify --loki --require-closed` passes", async () => {
    const exit = await server!.stop("SIGTERM");
    expect(exit, server!.output()).toEqual({ code: 0, signal: null });
    await waitForLoki(stack!.loki, SELECTOR, (rs) => rs.some((r) => r.attributes["audit.checkpoint.final"] === true));
    const verify = (key: string) =>
      app!.npx(["otel-auth-audit", "verify", "--loki", stack!.loki, "--query", SELECTOR, "--since", "1h", "--key", key, "--require-closed"], { OTEL_AUTH_AUDIT_KEY: "" });
    const ok = await verify(CHAIN_KEY);
    expect(ok.code, ok.output).toBe(0);
    // the same command fails with another key: the verification is real
    const wrong = await verify("not-the-chain-key");
    expect(wrong.code, wrong.output).not.toBe(0);
    const records = await lokiRecords(stack!.loki, SELECTOR);
    console.log(`app: ${records.length} records in Loki, chain verified and closed`);
  });
});
