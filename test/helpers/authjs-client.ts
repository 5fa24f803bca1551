/**
 * In-process clients for Auth.js handlers: one browser (IP, user agent, cookie jar) driving the
 * csrf → callback → session → signout flow, through a web handler (v5 `Auth`) or a
 * Pages Router `(req, res)` handler (next-auth 4), with no Next.js server.
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

function client(basePath: string, send: Send): AuthClient {
  const cookies = new Map<string, string>();
  const headers = () => ({
    "x-forwarded-for": `${CLIENT_IP}, 10.0.0.1`,
    "user-agent": USER_AGENT,
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
export function webClient(handler: (request: Request) => Promise<Response>, basePath = "/auth"): AuthClient {
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
  });
}

/** The request and response a Next.js Pages API route hands `NextAuth(req, res)`: parsed body, query, cookies. */
export interface FakeApiResponse {
  statusCode: number;
  headers: Map<string, unknown>;
  body: unknown;
  status(code: number): FakeApiResponse;
  setHeader(name: string, value: unknown): FakeApiResponse;
  getHeader(name: string): unknown;
  json(body: unknown): void;
  send(body: unknown): void;
  end(): void;
}

function fakeResponse(): FakeApiResponse {
  const res: FakeApiResponse = {
    statusCode: 200,
    headers: new Map(),
    body: undefined,
    status(code) {
      res.statusCode = code;
      return res;
    },
    setHeader(name, value) {
      res.headers.set(name.toLowerCase(), value);
      return res;
    },
    getHeader: (name) => res.headers.get(name.toLowerCase()),
    json(body) {
      res.setHeader("content-type", "application/json");
      res.body = body;
    },
    send(body) {
      res.body = typeof body === "string" ? readJson(body) : body;
    },
    end() {},
  };
  return res;
}

const readJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** A browser against a Pages Router handler: `NextAuth(authOptions)` mounted at `/api/auth/[...nextauth]`. */
export function pagesClient(handler: (req: object, res: FakeApiResponse) => unknown, basePath = "/api/auth"): AuthClient {
  return client(basePath, async (method, path, form, headers) => {
    const url = new URL(`${BASE_URL}${path}`);
    const cookie = headers.cookie ?? "";
    const req = {
      method,
      url: url.pathname + url.search,
      headers,
      query: { ...Object.fromEntries(url.searchParams), nextauth: url.pathname.slice(basePath.length + 1).split("/") },
      // Next.js hands the handler parsed, decoded cookies
      cookies: Object.fromEntries(
        cookie
          .split(/;\s*/)
          .filter(Boolean)
          .map((c) => [c.slice(0, c.indexOf("=")), decodeURIComponent(c.slice(c.indexOf("=") + 1))]),
      ),
      body: form ?? {},
    };
    const res = fakeResponse();
    await handler(req, res);
    const setCookie = res.getHeader("set-cookie");
    const location = res.getHeader("location");
    return {
      status: res.statusCode,
      location: typeof location === "string" ? location : null,
      setCookies: Array.isArray(setCookie) ? (setCookie as string[]) : typeof setCookie === "string" ? [setCookie] : [],
      body: res.body,
    };
  });
}
