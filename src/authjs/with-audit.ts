import { diag } from "@opentelemetry/api";
import { ACTIONS, providerMetadata, signInAction } from "./actions.js";
import {
  authErrorType,
  failureFromResponse,
  isSignInAttempt,
  providerOfError,
  providerTypeOfFailure,
  signInFailureType,
  wrappedError,
} from "./failures.js";
import { parseWithAuditOptions } from "./options.js";
import { hookProviders, type ProviderFailure } from "./provider-hooks.js";
import { AuthjsRecorder, configView, type ConfigView } from "./recorder.js";
import { currentScope, infoFromRequest, newScope, type RequestScope } from "./request-context.js";
import type { AuthAccountLike, AuthConfigLike, AuthUserLike, SignInMessage, SignOutMessage, WithAuditOptions } from "./types.js";

const AUDIT = Symbol.for("otel-auth-audit.authjs.audit");

type EventHandler = (message: never) => unknown;
type AnyFn = (...args: unknown[]) => unknown;

/** What `withAudit` attached to a config: how `auditHandler` records a failure only the response shows (v4). */
export interface Audited {
  readonly recorder: AuthjsRecorder;
  responseFailure(scope: RequestScope, status: number, url: string | undefined): void;
}

/** The audit `withAudit` attached to a config (or to a lazy config function), for `auditHandler`. */
export function auditOf(config: object): Audited | undefined {
  return (config as { [AUDIT]?: Audited })[AUDIT];
}

/** Errors already recorded by a hook (the app's own error objects): `logger.error` must not record them again. */
const recordedErrors = new WeakSet<object>();
const remember = (error: unknown) => {
  if (error && typeof error === "object") recordedErrors.add(error);
};
const isRemembered = (error: unknown) => !!error && typeof error === "object" && recordedErrors.has(error);

/**
 * Returns the Auth.js config with `events`, `logger`, `callbacks.signIn` and the Credentials /
 * e-mail providers' own functions wrapped, so every sign-in, refused or failed sign-in, sign-out
 * and user/account change becomes one OTel log record. The app's own events, callbacks and logger
 * still run and decide as before.
 * `NextAuth(withAudit(config))` · `NextAuth(withAudit((req) => config))` · `Auth(request, withAudit(config))` ·
 * `NextAuth(withAudit(authOptions))` (v4).
 */
export function withAudit<C extends AuthConfigLike>(config: C, options?: WithAuditOptions): C;
export function withAudit<C extends AuthConfigLike, R>(
  config: (request: R) => C | Promise<C>,
  options?: WithAuditOptions,
): (request: R) => Promise<C>;
export function withAudit<C extends AuthConfigLike, R>(
  config: C | ((request: R) => C | Promise<C>),
  options: WithAuditOptions = {},
): C | ((request: R) => Promise<C>) {
  const recorder = new AuthjsRecorder(parseWithAuditOptions(options));
  if (typeof config !== "function") {
    // audited twice (withAudit and an instrumentation's authjs()) would record everything twice
    if (auditOf(config)) {
      diag.warn("otel-auth-audit: withAudit: this config is already audited; it is returned unchanged");
      return config;
    }
    return auditConfig(config, recorder, undefined);
  }
  // next-auth 5's lazy config: called per request with the route's request (undefined in a server action)
  return async (request: R) => {
    const resolved = await config(request);
    const bound = request instanceof Request ? newScope(infoFromRequest(request)) : undefined;
    return auditConfig(resolved, recorder, bound);
  };
}

function auditConfig<C extends AuthConfigLike>(config: C, recorder: AuthjsRecorder, bound: RequestScope | undefined): C {
  const appEvents = (config.events ?? {}) as Record<string, EventHandler | undefined>;
  const appLogger = (config.logger ?? {}) as Record<string, AnyFn | undefined>;
  const appCallbacks = (config.callbacks ?? {}) as Record<string, AnyFn | undefined>;
  let view: ConfigView;

  const audit: Audited = {
    recorder,
    responseFailure(scope, status, url) {
      const error = failureFromResponse(status, url);
      if (!error) return;
      const providerId = view.knownProvider(scope.request.providerId);
      const providerType = view.providerType(providerId);
      recordFailure({ providerId, providerType, error, statusCode: status, identifier: emailOf(providerType, scope) }, scope);
    },
  };

  /** The request this call belongs to: the wrapped handler's, else the lazy config's. */
  const scopeNow = (): RequestScope | undefined => {
    const scope = currentScope() ?? bound;
    if (scope) scope.owner ??= audit;
    return scope;
  };

  function recordFailure(
    f: { providerId?: string; providerType?: string; error: string; identifier?: string; statusCode?: number },
    scope = scopeNow(),
  ): void {
    if (scope) scope.failureRecorded = true;
    recorder.record(
      {
        action: signInAction(f.providerType),
        outcome: "failure",
        userId: null,
        error: f.error,
        statusCode: f.statusCode,
        identifier: f.identifier,
        metadata: f.providerId ? { provider: f.providerId } : undefined,
      },
      view,
      scope,
    );
  }

  /** `authorize` returned null or threw; an e-mail could not be sent. */
  const onProviderFailure = (failure: ProviderFailure, credentials: unknown) => {
    remember(failure.thrown);
    const known = authErrorType(failure.thrown);
    let error: string;
    if (failure.providerType === "credentials") error = known ?? (failure.thrown !== undefined && failure.v5 ? "CallbackRouteError" : "CredentialsSignin");
    else error = known ?? (failure.v5 ? "EmailSignInError" : "EmailSignin");
    recordFailure({
      providerId: failure.providerId,
      providerType: failure.providerType,
      error,
      identifier: failure.identifier ?? recorder.identifierOf(credentials),
    });
  };

  /** The app's signIn callback returned false or a URL, or threw: Auth.js's two ways to refuse. */
  const onRefusal = (params: RefusalParams, thrown?: unknown) => {
    remember(thrown);
    const providerId = view.knownProvider(params?.account?.provider);
    const providerType = params?.account?.type ?? view.providerType(providerId);
    const identifier =
      providerType === "credentials" ? recorder.identifierOf(params?.credentials) : providerType === "email" ? (params?.user?.email ?? undefined) : undefined;
    recordFailure({ providerId, providerType, error: authErrorType(thrown) ?? "AccessDenied", identifier });
  };

  const record = (fields: Parameters<AuthjsRecorder["record"]>[0]) => recorder.record(fields, view, scopeNow());

  /** Records first, then runs the app's handler: a handler that throws cannot lose the record. */
  const wrap =
    <M>(name: string, toRecord: (message: M) => void) =>
    async (message: M): Promise<void> => {
      toRecord(message);
      await (appEvents[name] as ((m: M) => unknown) | undefined)?.(message);
    };

  const events: Record<string, unknown> = {
    ...appEvents,
    signIn: wrap<SignInMessage>("signIn", ({ user, account, isNewUser }) => {
      const scope = scopeNow();
      if (scope) scope.signedIn = true;
      const type = account?.type ?? view.providerType(account?.provider);
      record({ action: signInAction(type, isNewUser === true), outcome: "success", userId: idOf(user), metadata: providerMetadata(account) });
    }),
    signOut: wrap<SignOutMessage>("signOut", ({ token, session }) => {
      record({ action: ACTIONS.signOut, outcome: "success", userId: token?.sub ?? session?.userId ?? null });
    }),
    createUser: wrap<{ user: AuthUserLike }>("createUser", ({ user }) => {
      record({ action: ACTIONS.createUser, outcome: "success", userId: idOf(user) });
    }),
    updateUser: wrap<{ user: AuthUserLike }>("updateUser", ({ user }) => {
      record({ action: ACTIONS.updateUser, outcome: "success", userId: idOf(user) });
    }),
    linkAccount: wrap<{ user: AuthUserLike; account?: AuthAccountLike }>("linkAccount", ({ user, account }) => {
      record({ action: ACTIONS.linkAccount, outcome: "success", userId: idOf(user) ?? account?.userId ?? null, metadata: providerMetadata(account) });
    }),
  };
  if (recorder.sessionEvents) {
    events.session = wrap<{ session?: { userId?: string; user?: AuthUserLike }; token?: { sub?: string | null } }>("session", ({ session, token }) => {
      record({ action: ACTIONS.session, outcome: "success", userId: token?.sub ?? session?.userId ?? idOf(session?.user) });
    });
  }

  const callbacks = {
    ...appCallbacks,
    async signIn(params: RefusalParams): Promise<unknown> {
      let result: unknown;
      try {
        // Auth.js's default signIn callback allows every sign-in
        result = appCallbacks.signIn ? await appCallbacks.signIn.call(appCallbacks, params) : true;
      } catch (thrown) {
        if (recorder.enabled) onRefusal(params, thrown);
        throw thrown;
      }
      if (recorder.enabled && (!result || typeof result === "string")) onRefusal(params);
      return result;
    },
  };

  const logger = {
    ...appLogger,
    error(...args: unknown[]): void {
      const scope = scopeNow();
      // next-auth 4 forwards browser logs posted to `/_log` here: never audit those
      const fromClient = scope?.request.authAction === "_log";
      if (!fromClient && recorder.enabled) loggedFailure(args[0], scope);
      if (appLogger.error) return void appLogger.error(...args);
      if (!fromClient) defaultError(args);
    },
  };

  /** A v5 failure known only from the AuthError handed to `logger.error`. */
  function loggedFailure(error: unknown, scope: RequestScope | undefined): void {
    const type = signInFailureType(error);
    // AccessDenied comes only from the signIn callback, CredentialsSignin from authorize: both already recorded
    if (!type || type === "AccessDenied" || type === "CredentialsSignin") return;
    if (isRemembered(error) || isRemembered(wrappedError(error)) || scope?.failureRecorded) return;
    const authAction = scope?.request.authAction;
    // MissingCSRF on sign-out or a session update is no failed sign-in; without the request, it cannot be told apart
    if (authAction ? !isSignInAttempt(authAction, scope?.request.method) : type === "MissingCSRF") return;
    const providerId = view.knownProvider(scope?.request.providerId) ?? view.knownProvider(providerOfError(error));
    const providerType = view.providerType(providerId) ?? providerTypeOfFailure(type);
    recordFailure({ providerId, providerType, error: type, identifier: emailOf(providerType, scope) }, scope);
  }

  const audited = {
    ...config,
    providers: hookProviders(config.providers, (failure, credentials) => recorder.enabled && onProviderFailure(failure, credentials)),
    events,
    callbacks,
    logger,
  } as C;
  view = configView(audited);
  Object.defineProperty(audited, AUDIT, { value: audit, enumerable: false });
  return audited;
}

interface RefusalParams {
  user?: AuthUserLike | null;
  account?: AuthAccountLike | null;
  credentials?: unknown;
}

const idOf = (user: AuthUserLike | null | undefined): string | null => (user?.id == null ? null : String(user.id));

/** The address an e-mail sign-in link named (`?email=`), for `user.hash` of a failed verification. */
const emailOf = (providerType: string | undefined, scope: RequestScope | undefined): string | undefined =>
  providerType === "email" ? scope?.request.emailParam : undefined;

/** Auth.js prints errors itself unless `logger.error` is set; ours is set, so print as it would. */
function defaultError([first, second]: unknown[]): void {
  if (first instanceof Error) {
    const type = (first as { type?: unknown }).type;
    console.error(`[auth][error] ${typeof type === "string" ? type : first.name}: ${first.message}`);
    return;
  }
  const message = (second as { message?: unknown } | undefined)?.message;
  console.error(`[next-auth][error][${String(first)}]`, typeof message === "string" ? message : "", second ?? "");
}
