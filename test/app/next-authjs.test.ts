/**
 * The consumer stage for Auth.js v5: examples/next-authjs-app (Next.js 16 App Router, next-auth 5
 * with the Credentials provider, `withAudit` + `auditHandler` from otel-auth-audit/authjs,
 * setupAudit() in instrumentation.ts) installed from the packed tarball, built, started, and used
 * through Auth.js' own sign-in and sign-out pages in real Chromium. The records — the failed
 * sign-in included — must reach our collector and Loki with the browser's user agent, and after
 * SIGTERM the installed CLI's `verify --loki --require-closed` must pass.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { prepareApp, startNext, type NextServer, type PreparedApp } from "./helpers/next-app.js";
import { launchChromium, screenshot, withPage, type Browser, type Page } from "./helpers/next-browser.js";
import { reportFailure } from "./helpers/next-report.js";
import { startAppStack, waitForLoki, type AppStack, type LokiRecord } from "./helpers/next-stack.js";

const CHAIN_KEY = "next-authjs-chain-key-0123456789abcdef";
const AUTH_SECRET = "next-authjs-secret-0123456789abcdef0123456789";
const USER_AGENT = "otel-auth-audit-app-test/1.0 (Chromium; Auth.js)";
const run = Date.now().toString(36);
const EMAIL = `ada-${run}@example.com`;
const PASSWORD = `demo-Pa55word-${run}`;
const WRONG_PASSWORD = `wrong-Pa55word-${run}`;
const SELECTOR = `{audit_stream="audit", service_name="next-authjs-app"}`;

let stack: AppStack | undefined;
let app: PreparedApp | undefined;
let server: NextServer | undefined;
let browser: Browser | undefined;
/**
 * Next.js' NextURL rewrites a loopback host (127.x.x.x, [::1]) to `localhost`, and Auth.js builds
 * its form actions and cookies from that URL (AUTH_URL included), so the browser uses `localhost`
 * too: a CSRF cookie set for 127.0.0.1 is not sent to localhost (MissingCSRF).
 */
const site = () => server!.url.replace("127.0.0.1", "localhost");

const statusIs = (page: Page, text: string) => page.waitForFunction(`document.querySelector("#status")?.textContent === ${JSON.stringify(text)}`);

/** Auth.js' built-in sign-in page: the Credentials form. */
async function signIn(page: Page, password: string) {
  await page.goto(`${site()}/api/auth/signin`);
  await page.locator("input[name=email]").fill(EMAIL);
  await page.locator("input[name=password]").fill(password);
  await page.locator("form[action$='/callback/credentials'] button").click();
}

const actionOf = (r: LokiRecord) => `${r.attributes["audit.action"]} ${r.attributes["audit.outcome"]}`;

beforeAll(async () => {
  const tarball = process.env.OTEL_AUTH_AUDIT_TARBALL;
  if (!tarball) throw new Error("OTEL_AUTH_AUDIT_TARBALL is not set: run through `npm run test:app` (its global setup packs the tarball)");
  const [stackStarted, prepared] = await Promise.allSettled([startAppStack("next-authjs-app"), prepareApp("next-authjs-app", tarball)]);
  if (stackStarted.status === "fulfilled") stack = stackStarted.value;
  if (prepared.status === "fulfilled") app = prepared.value;
  for (const r of [stackStarted, prepared]) if (r.status === "rejected") throw r.reason;
  if (!stack || !app) throw new Error("unreachable");
  server = await startNext(app, (url) => ({
    AUTH_SECRET,
    AUTH_URL: url.replace("127.0.0.1", "localhost"),
    AUTH_TRUST_HOST: "true",
    DEMO_EMAIL: EMAIL,
    DEMO_PASSWORD: PASSWORD,
    OTEL_EXPORTER_OTLP_ENDPOINT: stack!.otlpEndpoint,
    OTEL_AUTH_AUDIT_KEY: CHAIN_KEY,
    NEXT_MANUAL_SIG_HANDLE: "true",
  }));
  browser = await launchChromium(app.dir);
});

afterEach(({ task }) => {
  if (task.result?.state !== "fail") return;
  reportFailure("next-authjs", {
    "next start": () => server?.output() ?? "(not started)",
    "collector and Loki": () => stack?.logs() ?? "(not started)",
  });
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await server?.stop("SIGKILL");
  await stack?.stop();
});

describe("Next.js 16 + Auth.js v5 (Credentials), from the packed tarball, in Chromium", () => {
  it("a failed sign-in, a sign-in and a sign-out through Auth.js' pages", async () => {
    await withPage(browser!, "next-authjs", { userAgent: USER_AGENT }, async (page) => {
      await page.goto(site());
      await statusIs(page, "Signed out");

      await signIn(page, WRONG_PASSWORD);
      await page.waitForFunction(`location.search.includes("error=CredentialsSignin")`);
      await screenshot(page, "next-authjs-failed-sign-in");

      await signIn(page, PASSWORD);
      await statusIs(page, `Signed in as ${EMAIL}`);

      await page.goto(`${site()}/api/auth/signout`);
      await page.locator("form[action$='/signout'] button").click();
      await statusIs(page, "Signed out");
    });
  });

  it("the records reached the collector and Loki, with the browser's user agent and no secret", async () => {
    const expected = ["sign-in:credentials failure", "sign-in:credentials success", "sign-out success"];
    const records = await waitForLoki(stack!.loki, SELECTOR, (rs) => rs.filter((r) => r.attributes["audit.action"]).length >= expected.length);
    const events = records.filter((r) => r.attributes["audit.action"]);
    expect(events.map(actionOf)).toEqual(expected);
    expect(events[0].attributes).toMatchObject({ "error.type": "CredentialsSignin", "audit.severity": "high", "user_agent.original": USER_AGENT });
    expect(events[0].attributes["user.id"]).toBeUndefined();
    expect(events[1].attributes).toMatchObject({ "user.id": "user-ada", "user_agent.original": USER_AGENT, "audit.metadata.provider": "credentials" });
    expect(events[2].attributes["user.id"]).toBe("user-ada");
    const text = JSON.stringify(records);
    for (const secret of [PASSWORD, WRONG_PASSWORD, AUTH_SECRET]) expect(text).not.toContain(secret);
  });

  it("SIGTERM closes the chain: the tarball's `otel-auth-audit verify --loki --require-closed` passes", async () => {
    const exit = await server!.stop("SIGTERM");
    expect(exit, server!.output()).toEqual({ code: 0, signal: null });
    await waitForLoki(stack!.loki, SELECTOR, (rs) => rs.some((r) => r.attributes["audit.checkpoint.final"] === true));
    const verify = (key: string) =>
      app!.npx(["otel-auth-audit", "verify", "--loki", stack!.loki, "--query", SELECTOR, "--since", "1h", "--key", key, "--require-closed"], { OTEL_AUTH_AUDIT_KEY: "" });
    const ok = await verify(CHAIN_KEY);
    expect(ok.code, ok.output).toBe(0);
    const wrong = await verify("not-the-chain-key");
    expect(wrong.code, wrong.output).not.toBe(0);
  });
});
