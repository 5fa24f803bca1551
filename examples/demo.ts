/**
 * `npm run demo`: a better-auth app on an embedded database (node:sqlite, in memory) with the audit
 * plugin, driven through `auth.handler` with real Requests; prints every exported audit record.
 * With OTEL_EXPORTER_OTLP_ENDPOINT set, the records are also shipped there over OTLP/HTTP.
 */
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { BatchLogRecordProcessor, InMemoryLogRecordExporter, SimpleLogRecordProcessor, type LogRecordProcessor } from "@opentelemetry/sdk-logs";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { DatabaseSync } from "node:sqlite";
import { setupAudit } from "otel-auth-audit";
import { verifyRecords } from "otel-auth-audit/verify";
import { auditLog } from "otel-auth-audit/better-auth";

const BASE = "http://localhost:3000";
const shown = new InMemoryLogRecordExporter();
const processors: LogRecordProcessor[] = [new SimpleLogRecordProcessor({ exporter: shown })];
const otlp = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
if (otlp) processors.push(new BatchLogRecordProcessor({ exporter: new OTLPLogExporter() }));
const KEY = process.env.OTEL_AUTH_AUDIT_KEY ?? "demo-chain-key-change-me";
const { provider, shutdown } = setupAudit({ serviceName: "otel-auth-audit-demo", processors, integrity: { key: KEY } });

let resetToken = "";
const options = {
  baseURL: BASE,
  secret: "demo-secret-change-me-0123456789abcdefghijklmnop",
  database: new DatabaseSync(":memory:"),
  emailAndPassword: { enabled: true, sendResetPassword: async ({ token }: { token: string }) => void (resetToken = token) },
  user: { deleteUser: { enabled: true } },
  advanced: { ipAddress: { ipAddressHeaders: ["x-forwarded-for"] } },
  logger: { disabled: true },
  plugins: [auditLog({ loggerProvider: provider })],
};
await (await getMigrations(options)).runMigrations();
const auth = betterAuth(options);

/** One browser: an IP, a user agent and a cookie jar. */
function browser(ip: string, userAgent: string) {
  let cookie = "";
  return async (path: string, body: unknown = {}) => {
    const res = await auth.handler(
      new Request(`${BASE}/api/auth${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": ip, "user-agent": userAgent, origin: BASE, cookie },
        body: JSON.stringify(body),
      }),
    );
    const set = res.headers.getSetCookie().map((c) => c.split(";")[0]).filter((c) => !c.endsWith("="));
    if (set.length) cookie = set.join("; ");
    return res.json().catch(() => null);
  };
}

const laptop = browser("203.0.113.10", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0");
const phone = browser("198.51.100.23", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Safari/604.1");
const attacker = browser("192.0.2.66", "python-requests/2.32");

await laptop("/sign-up/email", { email: "ada@example.com", password: "correct-horse-battery", name: "Ada" });
await attacker("/sign-in/email", { email: "ada@example.com", password: "hunter2-guess" });
await phone("/sign-in/email", { email: "ada@example.com", password: "correct-horse-battery" });
await laptop("/change-password", { currentPassword: "correct-horse-battery", newPassword: "even-better-horse-42" });
await laptop("/revoke-other-sessions");
await laptop("/request-password-reset", { email: "ada@example.com", redirectTo: "/reset" });
await laptop("/reset-password", { token: resetToken, newPassword: "reset-horse-battery-7" });
await laptop("/sign-in/email", { email: "ada@example.com", password: "reset-horse-battery-7" });
await laptop("/sign-out");
await laptop("/sign-in/email", { email: "ada@example.com", password: "reset-horse-battery-7" });
await laptop("/delete-user", { password: "reset-horse-battery-7" });

await provider.forceFlush();
const short = (v: unknown) => (typeof v === "string" && v.length > 12 ? `${v.slice(0, 10)}…` : (v ?? ""));
console.log(`\notel-auth-audit demo: ${shown.getFinishedLogRecords().length} audit records${otlp ? ` (also sent to ${otlp})` : ""}\n`);
console.table(
  shown.getFinishedLogRecords().map((r) => ({
    action: r.attributes["audit.action"],
    outcome: r.attributes["audit.outcome"],
    severity: `${r.attributes["audit.severity"]} (${r.severityText} ${r.severityNumber})`,
    user: short(r.attributes["user.id"]),
    ip: r.attributes["client.address"] ?? "",
    error: r.attributes["error.type"] ?? "",
    eventName: r.eventName,
    "chain seq": r.attributes["audit.chain.seq"],
  })),
);

// tamper evidence: the exported records verify; an edited copy does not
const records = shown.getFinishedLogRecords();
const intact = verifyRecords(records, { key: KEY });
console.log(`\nhash chain: ${intact.ok ? "OK" : "FAILED"} (${intact.chains.map((c) => `${c.id.slice(0, 8)}…: ${c.size} records`).join(", ")})`);
const edit = (r: (typeof records)[number]) => ({
  hrTime: r.hrTime, hrTimeObserved: r.hrTimeObserved, eventName: r.eventName, severityNumber: r.severityNumber, severityText: r.severityText,
  body: r.body, resource: r.resource, instrumentationScope: r.instrumentationScope, droppedAttributesCount: 0,
  attributes: { ...r.attributes, "client.address": "10.0.0.1" },
});
const forged = records.map((r, i) => (i === 1 ? edit(r) : r));
const tampered = verifyRecords(forged, { key: KEY });
console.log(`after editing record 2's IP: ${tampered.ok ? "OK" : "FAILED"} — ${tampered.problems.filter((p) => p.level === "error").map((p) => `${p.kind} at seq ${p.seq}`).join(", ")}`);
await shutdown();
