/**
 * Debian's Chromium (/usr/bin/chromium) driven by playwright-core — no browser download. The
 * playwright-core used is the app's own devDependency, so the repository's install stays small;
 * the few calls the tests make are typed here.
 */
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { ARTIFACTS } from "./next-app.js";

export interface Locator {
  fill(value: string): Promise<void>;
  click(): Promise<void>;
  textContent(): Promise<string | null>;
  count(): Promise<number>;
  waitFor(options?: { state?: "visible" | "attached"; timeout?: number }): Promise<void>;
  locator(selector: string): Locator;
  allTextContents(): Promise<string[]>;
  getAttribute(name: string): Promise<string | null>;
  nth(index: number): Locator;
}

export interface Page {
  goto(url: string, options?: { waitUntil?: "load" | "networkidle" }): Promise<unknown>;
  locator(selector: string): Locator;
  waitForFunction(fn: string, arg?: unknown, options?: { timeout?: number }): Promise<unknown>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  /** Evaluates a JavaScript expression in the page (a promise is awaited). */
  evaluate<R>(expression: string): Promise<R>;
  setDefaultTimeout(ms: number): void;
  close(): Promise<void>;
}

interface BrowserContext {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export interface Browser {
  newContext(options?: { userAgent?: string }): Promise<BrowserContext>;
  close(): Promise<void>;
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Launches headless Chromium through the app's playwright-core. */
export async function launchChromium(appDir: string): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  // resolved from the app's own node_modules (not a dependency of this repository)
  const fromApp = createRequire(join(appDir, "package.json"));
  const { chromium } = fromApp(fromApp.resolve("playwright-core")) as { chromium: { launch(options: object): Promise<Browser> } };
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"], timeout: 60_000 });
}

/** Saves a full-page screenshot into .tmp/artifacts/ and prints its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`app: screenshot ${path}`);
  return path;
}

/**
 * Runs `use` with a fresh page in its own context (own cookies), 30 s per step; on a failure the
 * page is saved as .tmp/artifacts/<name>-failure.png first. The context is closed either way.
 */
export async function withPage<T>(browser: Browser, name: string, options: { userAgent?: string }, use: (page: Page) => Promise<T>): Promise<T> {
  const context = await browser.newContext(options);
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    try {
      return await use(page);
    } catch (error) {
      await screenshot(page, `${name}-failure`).catch(() => undefined);
      throw error;
    }
  } finally {
    await context.close();
  }
}
