/**
 * In-process clients for Auth.js handlers: one browser (IP, user agent, cookie jar) driving the
 * csrf → callback → session → signout flow, through a web handler (v5 `Auth`) in process, or a
 * Pages Router `(req, res)` handler (next-auth 4) behind a real node:http server.
 */
export const BASE_URL = "http://localhost:3000";
export const CLIENT_IP = "203.0.113.9";
export const USER_AGENT = "otel-auth-audit-authjs-test/1.0";

export interface ClientResponse {
  status: number;
  location: string | null;
  body: unknown;
}

export interface AuthClient {
  get(path: string): Promise<ClientResponse>;
  post(path: string, form: Record<string, string>): Promise<ClientResponse>;
  csrf(): Promise<string>;
  signIn(providerId: string, form: Record<string, string>): Promise<ClientResponse>;
  session(): Promise<{ user?: { email?: string } } | null>;
  signOut(): Promise<ClientResponse>;
  cookies: Map<string, string>;
}

type Send = (method: string, path: string, form: Record<string, string> | undefined, headers: Record<string, string>) => Promise<{
  status: number;
  location: string | null;
  setCookies: string[];
  body: unknown;
}>;

/** What the browser's requests carry besides cookies: by default a client behind one private proxy hop. */
export interface ClientIdentity {
  forwardedFor?: string;
  userAgent?: string;
}

function client(basePath: string, send: Send, identity: ClientIdentity = {}): AuthClient {
  const cookies = new Map<string, string>();
  const forwardedFor = "forwardedFor" in identity ? identity.forwardedFor : `${CLIENT_IP}, 10.0.0.1`;
  const headers = () => ({
    ...(forwardedFor !== undefined ? { "x-forwarded-for": forwardedFor } : {}),
    "user-agent": identity.userAgent ?? USER_AGENT,
    host: "localhost:3000",
    ...(cookies.size > 0 ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; ") } : {}),
  });
  const call = async (method: string, path: string, form?: Record<string, string>): Promise<ClientResponse> => {
    const r = await send(method, `${basePath}${path}`, form, headers());
    for (const line of r.setCookies) {
      const [pair] = line.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (value === "" || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) cookies.delete(name);
      else cookies.set(name, value);
    }
    return { status: r.status, location: r.location, body: r.body };
  };
  const api: AuthClient = {
    cookies,
    get: (path) => call("GET", path),
    post: (path, form) => call("POST", path, form),
    async csrf() {
      const r = await call("GET", "/csrf");
      return (r.body as { csrfToken: string }).csrfToken;
    },
    async signIn(providerId, form) {
      const csrfToken = await api.csrf();
      return call("POST", `/callback/${providerId}`, { ...form, csrfToken, callbackUrl: BASE_URL });
    },
    async session() {
      const r = await call("GET", "/session");
      const body = r.body as { user?: { email?: string } } | null;
      return body && Object.keys(body).length > 0 ? body : null;
    },
    async signOut() {
      const csrfToken = await api.csrf();
      return call("POST", "/signout", { csrfToken, callbackUrl: BASE_URL });
    },
  };
  return api;
}

const readBody = async (response: Response): Promise<unknown> => {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** A browser against a web handler: `(request) => Auth(request, config)`. */
export function webClient(handler: (request: Request) => Promise<Response>, basePath = "/auth", identity?: ClientIdentity): AuthClient {
  return client(basePath, async (method, path, form, headers) => {
    const response = await handler(
      new Request(`${BASE_URL}${path}`, {
        method,
        headers: form ? { ...headers, "content-type": "application/x-www-form-urlencoded" } : headers,
        body: form ? new URLSearchParams(form).toString() : undefined,
      }),
    );
    return {
      status: response.status,
      location: response.headers.get("location"),
      setCookies: response.headers.getSetCookie(),
      body: await readBody(response),
    };
  }, identity);
}

const readJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/**
 * A real node:http server shaped like a Next.js Pages API route (`pages/api/auth/[...nextauth].ts`):
 * parsed body (form or JSON), `query.nextauth`, parsed cookies, and `res.status/json/send` as
 * Next.js adds them. Listens on 127.0.0.1, port 0; `close()` stops it.
 */
export async function pagesServer(
  handler: (req: object, res: object) => unknown,
  basePath = "/api/auth",
): Promise<{ url: string; close(): Promise<void>; client(identity?: ClientIdentity): AuthClient }> {
  const { createServer } = await import("node:http");
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const type = req.headers["content-type"] ?? "";
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const api = Object.assign(req, {
        query: { ...Object.fromEntries(url.searchParams), nextauth: url.pathname.slice(basePath.length + 1).split("/") },
        cookies: Object.fromEntries(
          (req.headers.cookie ?? "")
            .split(/;\s*/)
            .filter(Boolean)
            .map((c) => [c.slice(0, c.indexOf("=")), decodeURIComponent(c.slice(c.indexOf("=") + 1))]),
        ),
        body: type.includes("json") ? readJson(text) : Object.fromEntries(new URLSearchParams(text)),
      });
      const out = Object.assign(res, {
        status(code: number) {
          res.statusCode = code;
          return out;
        },
        json(body: unknown) {
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify(body));
        },
        send(body: unknown) {
          if (body !== null && typeof body === "object") return out.json(body);
          res.end(body === undefined ? undefined : String(body));
        },
      });
      Promise.resolve(handler(api, out)).then(
        () => void (res.writableEnded || res.end()),
        (error: unknown) => {
          res.statusCode = 500;
          res.end(String(error));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: origin,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    client: (identity?: ClientIdentity) =>
      client(
        basePath,
        async (method, path, form, headers) => {
          const response = await fetch(`${origin}${path}`, {
            method,
            redirect: "manual",
            signal: AbortSignal.timeout(10_000),
            headers: form ? { ...headers, "content-type": "application/x-www-form-urlencoded" } : headers,
            body: form ? new URLSearchParams(form).toString() : undefined,
          });
          return {
            status: response.status,
            location: response.headers.get("location"),
            setCookies: response.headers.getSetCookie(),
            body: await readBody(response),
          };
        },
        identity,
      ),
  };
}
