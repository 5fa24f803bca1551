import { Auth, type AuthConfig } from "@auth/core";
import Credentials from "@auth/core/providers/credentials";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AuditOptionsError } from "otel-auth-audit";
import { auditHandler, withAudit, type WithAuditOptions } from "otel-auth-audit/authjs";
import { createTestAudit } from "otel-auth-audit/testing";
import { ClientAddressResolver } from "../src/authjs/client-address.js";
import { boundedErrorCode, isKnownErrorCode, UNKNOWN_ERROR } from "../src/authjs/error-codes.js";
import { failureFromResponse } from "../src/authjs/failures.js";
import { CLIENT_IP, webClient } from "./helpers/authjs-client.js";

// public addresses only (no 10/8, 127/8, 169.254/16, 172.16/12, 192.168/16): the presets must not match them
const ipv4 = fc.tuple(fc.integer({ min: 11, max: 99 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map((p) => p.join("."));
const proxy = fc.tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map((p) => `10.${p.join(".")}`);

describe("trusted proxies: the client address", () => {
  it("property: a client-set X-Forwarded-For never becomes the address unless its hops are trusted", () => {
    fc.assert(
      fc.property(fc.array(ipv4, { maxLength: 4 }), ipv4, fc.array(proxy, { minLength: 1, maxLength: 4 }), (spoofed, real, proxies) => {
        // a Node request: the last proxy is the socket peer, the others appended to the header
        const forwarded = [...spoofed, real, ...proxies.slice(0, -1)].join(", ");
        const peer = proxies.at(-1)!;
        expect(new ClientAddressResolver().resolve(peer, forwarded, spoofed[0])).toBe(peer);
        expect(new ClientAddressResolver(proxies.length).resolve(peer, forwarded, undefined)).toBe(real);
        expect(new ClientAddressResolver(["10.0.0.0/8"]).resolve(peer, forwarded, undefined)).toBe(real);
        expect(new ClientAddressResolver(["private"]).resolve(peer, forwarded, undefined)).toBe(real);
        // a web Request carries no peer: the first trusted hop is implied
        const web = [...spoofed, real, ...proxies.slice(0, -1)].join(", ");
        expect(new ClientAddressResolver().resolve(undefined, web, undefined)).toBeUndefined();
        expect(new ClientAddressResolver(proxies.length).resolve(undefined, web, undefined)).toBe(real);
      }),
    );
  });

  it("reads IPv4-mapped peers, ports and brackets; a hop that is no address gives no address", () => {
    expect(new ClientAddressResolver().resolve("::ffff:127.0.0.1", "1.2.3.4", undefined)).toBe("127.0.0.1");
    expect(new ClientAddressResolver(["loopback"]).resolve("::ffff:127.0.0.1", "1.2.3.4:5678", undefined)).toBe("1.2.3.4");
    expect(new ClientAddressResolver(["loopback"]).resolve("::1", "[2001:db8::1]:443", undefined)).toBe("2001:db8::1");
    expect(new ClientAddressResolver(["loopback"]).resolve("127.0.0.1", "1.2.3.4, not-an-ip", undefined)).toBeUndefined();
    expect(new ClientAddressResolver(1).resolve(undefined, "jane@example.com", undefined)).toBeUndefined();
    expect(new ClientAddressResolver(1).resolve(undefined, undefined, "203.0.113.5")).toBe("203.0.113.5");
    expect(new ClientAddressResolver().resolve(undefined, undefined, "203.0.113.5")).toBeUndefined();
  });

  it("v5 through Auth(Request): a client-set X-Forwarded-For changes client.address only when trusted", async () => {
    const run = async (options: Omit<WithAuditOptions, "loggerProvider">, forwardedFor: string) => {
      const t = createTestAudit();
      const config = withAudit(
        {
          basePath: "/auth",
          secret: "authjs-options-secret-0123456789abcdefghijklmnop",
          trustHost: true,
          logger: { error: () => {} },
          providers: [Credentials({ credentials: { email: {}, password: {} }, authorize: async () => null })],
        } satisfies AuthConfig,
        { loggerProvider: t.provider, ...options },
      );
      const browser = webClient(auditHandler((request: Request) => Auth(request, config), config), "/auth", { forwardedFor });
      await browser.signIn("credentials", { email: "a@example.com", password: "x" });
      return t.records()[0]!.attributes["client.address"];
    };
    expect(await run({}, "6.6.6.6")).toBeUndefined();
    expect(await run({ trustedProxies: 1 }, `6.6.6.6, ${CLIENT_IP}`)).toBe(CLIENT_IP);
    expect(await run({ trustedProxies: ["private"] }, `6.6.6.6, ${CLIENT_IP}, 10.1.2.3`)).toBe(CLIENT_IP);
    expect(await run({ trustedProxies: ["private"] }, `6.6.6.6, ${CLIENT_IP}`)).toBe(CLIENT_IP);
  });
});

describe("error.type: a bounded code", () => {
  it("property: any text maps to a known code or UnknownError, and only a known code passes through", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.emailAddress(), fc.constantFrom("CredentialsSignin", "configuration", "OAuthCallback", "Callback", "MissingCSRF")), (text) => {
        const code = boundedErrorCode(text);
        expect(code === UNKNOWN_ERROR || isKnownErrorCode(code)).toBe(true);
        if (code !== UNKNOWN_ERROR) expect(code.toLowerCase()).toBe(text.toLowerCase());
        for (const status of [200, 302, 401, 403]) {
          const fromUrl = failureFromResponse(status, `http://localhost/api/auth/error?error=${encodeURIComponent(text)}`);
          expect(fromUrl === undefined || fromUrl === UNKNOWN_ERROR || isKnownErrorCode(fromUrl)).toBe(true);
        }
      }),
    );
  });

  it("v4's codes and v5's types are known; a thrown message on a 401 is a CredentialsSignin", () => {
    for (const code of ["Callback", "OAuthCallback", "OAuthSignin", "EmailSignin", "SessionRequired", "Verification", "AccessDenied", "CallbackRouteError", "OAuthCallbackError"]) {
      expect(boundedErrorCode(code)).toBe(code);
    }
    expect(boundedErrorCode("configuration")).toBe("Configuration");
    expect(failureFromResponse(401, "/api/auth/error?error=No%20user%20found%20with%20email%20jane%40example.com")).toBe("CredentialsSignin");
    expect(failureFromResponse(302, "/api/auth/error?error=jane%40example.com")).toBe(UNKNOWN_ERROR);
  });
});

describe("withAudit options are validated at construction", () => {
  const config = { providers: [] };
  const refused = (options: unknown, option: string) => {
    let error: unknown;
    try {
      withAudit(config, options as WithAuditOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuditOptionsError);
    expect((error as AuditOptionsError).option).toBe(option);
    expect((error as AuditOptionsError).where).toBe("withAudit");
  };

  it("refuses wrong types, values and unknown keys, naming the option", () => {
    refused({ trustedProxies: "yes" }, "trustedProxies");
    refused({ trustedProxies: -1 }, "trustedProxies");
    refused({ trustedProxies: ["10.0.0.0/33"] }, "trustedProxies.0");
    refused({ trustedProxies: ["example.com"] }, "trustedProxies.0");
    refused({ userHash: { key: "short" } }, "userHash.key");
    refused({ userHash: { fields: [] } }, "userHash.fields");
    refused({ userHash: true }, "userHash");
    refused({ capture: { ip: true } }, "capture.ip");
    refused({ events: { session: "yes" } }, "events.session");
    refused({ headers: "x-forwarded-for" }, "headers");
    refused({ loggerProvider: {} }, "loggerProvider");
    refused({ trustProxy: true }, "trustProxy");
  });

  it("accepts the documented forms, and a lazy config", () => {
    for (const options of [{}, { trustedProxies: 0 }, { trustedProxies: 2 }, { trustedProxies: ["loopback", "private", "203.0.113.0/24", "2001:db8::/32", "198.51.100.7"] }, { userHash: false }, { userHash: { key: "k".repeat(32), fields: ["login"] } }, { headers: () => new Headers() }]) {
      expect(() => withAudit(config, options as WithAuditOptions)).not.toThrow();
    }
    expect(typeof withAudit(() => config, { trustedProxies: 1 })).toBe("function");
    expect(() => withAudit(() => config, { trustedProxies: "all" } as never)).toThrow(AuditOptionsError);
  });
});

describe("withAudit twice", () => {
  it("a config audited twice records each event once", async () => {
    const t = createTestAudit();
    const config = withAudit(
      withAudit(
        {
          basePath: "/auth",
          secret: "authjs-options-secret-0123456789abcdefghijklmnop",
          trustHost: true,
          logger: { error: () => {} },
          providers: [Credentials({ credentials: { password: {} }, authorize: async (c) => (c.password === "right" ? { id: "u1" } : null) })],
          callbacks: { signIn: () => "/refused" },
        } satisfies AuthConfig,
        { loggerProvider: t.provider },
      ),
      { loggerProvider: t.provider },
    );
    const browser = webClient(auditHandler((request: Request) => Auth(request, config), config));
    await browser.signIn("credentials", { password: "wrong" });
    await browser.signIn("credentials", { password: "right" });
    expect(t.events().map((e) => e.error)).toEqual(["CredentialsSignin", "AccessDenied"]);
  });
});
