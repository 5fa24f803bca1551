import { createHash } from "node:crypto";
import { createServer } from "node:http";

/** The user the stand-in provider signs in. */
export const OAUTH_USER = { sub: "acme-42", email: "oauth.user@example.com", name: "OAuth User" };

/**
 * A small OAuth 2.0 authorization server on loopback (port 0): `/authorize` approves at once and
 * redirects with a code, `/token` exchanges it (checking the PKCE verifier when a challenge was
 * sent), `/userinfo` answers for the bearer token. Enough for Auth.js v5 and NextAuth v4 to run a
 * real authorization-code flow against it.
 */
export async function startOAuthServer(): Promise<{ issuer: string; close(): Promise<void> }> {
  const codes = new Map<string, { challenge?: string; redirectUri: string }>();
  const tokens = new Set<string>();
  let next = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (url.pathname === "/authorize") {
      const code = `code-${++next}`;
      const redirectUri = url.searchParams.get("redirect_uri") ?? "";
      codes.set(code, { challenge: url.searchParams.get("code_challenge") ?? undefined, redirectUri });
      const target = new URL(redirectUri);
      target.searchParams.set("code", code);
      const state = url.searchParams.get("state");
      if (state) target.searchParams.set("state", state);
      return res.writeHead(302, { location: target.toString() }).end();
    }
    if (url.pathname === "/token" && req.method === "POST") {
      let text = "";
      req.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      req.on("end", () => {
        const form = new URLSearchParams(text);
        const grant = codes.get(form.get("code") ?? "");
        codes.delete(form.get("code") ?? "");
        if (!grant) return json(400, { error: "invalid_grant" });
        if (grant.challenge) {
          const verifier = form.get("code_verifier") ?? "";
          if (createHash("sha256").update(verifier).digest("base64url") !== grant.challenge) return json(400, { error: "invalid_grant" });
        }
        const token = `token-${++next}`;
        tokens.add(token);
        json(200, { access_token: token, token_type: "Bearer", expires_in: 3600, scope: "profile" });
      });
      return;
    }
    if (url.pathname === "/userinfo") {
      const token = (req.headers.authorization ?? "").replace(/^Bearer /i, "");
      return tokens.has(token) ? json(200, OAUTH_USER) : json(401, { error: "invalid_token" });
    }
    json(404, { error: "not_found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { issuer, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
