import { LoggerProvider } from "@opentelemetry/sdk-logs";
import { IntegrityProcessor } from "../src/processors/integrity.js";
import { RedactionProcessor } from "../src/processors/redaction.js";
import { hmacSha256Hex } from "../src/chain/keys.js";
import { canonicalFromSdk } from "../src/chain/canonical.js";
import { MerkleTree } from "../src/chain/merkle.js";
const which = process.argv[2];
const integrity = new IntegrityProcessor({ key: "k", checkpointIntervalMs: 0, checkpointEvery: 0 });
const red = new RedactionProcessor();
const h = hmacSha256Hex(Buffer.from("k"));
const tree = new MerkleTree();
let last = "";
const proc = { onEmit(r: any) {
  if (which === "integrity") integrity.onEmit(r);
  else if (which === "redaction") red.onEmit(r);
  else if (which === "canonical") last = canonicalFromSdk(r, "x");
  else if (which === "hmac") last = h(canonicalFromSdk(r, "x"));
  else if (which === "merkle") { last = h(canonicalFromSdk(r, "x")); tree.appendHex(last); }
}, forceFlush: async () => {}, shutdown: async () => {} };
const p = new LoggerProvider({ processors: [proc as any] });
integrity.bind(p);
const logger = p.getLogger("otel-auth-audit");
const N = 100000;
const c0 = process.cpuUsage();
for (let i = 0; i < N; i++) {
  logger.emit({ eventName: "auth.sign_out", severityNumber: 10, body: "sign-out success", attributes: { "audit.action": "sign-out", "audit.outcome": "success", "audit.id": "0190f0e0-0000-7000-8000-" + i, "user.id": "u1", "session.id": "s1", "client.address": "203.0.113.5", "user_agent.original": "Mozilla/5.0 (bench)", "http.request.method": "POST", "url.path": "/sign-out", "http.response.status_code": 200, "audit.severity": "medium" } });
}
const c = process.cpuUsage(c0);
console.log(which, "CPU µs/record", ((c.user + c.system) / N).toFixed(2));
