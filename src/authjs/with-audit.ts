import { ACTIONS, providerMetadata, signInAction } from "./actions.js";
import { isSignInAttempt, providerOfError, signInFailureType } from "./failures.js";
import { AuthjsRecorder } from "./recorder.js";
import { currentScope } from "./request-context.js";
import type { AuthAccountLike, AuthConfigLike, AuthUserLike, SignInMessage, SignOutMessage, WithAuditOptions } from "./types.js";

const RECORDER = Symbol.for("otel-auth-audit.authjs.recorder");

type EventHandler = (message: never) => unknown;
type AnyFn = (...args: unknown[]) => unknown;

/** The recorder `withAudit` attached to a config, for `auditHandler`. */
export function recorderOf(config: object): AuthjsRecorder | undefined {
  return (config as { [RECORDER]?: AuthjsRecorder })[RECORDER];
}

/**
 * Returns the Auth.js config with `events` and `logger` wrapped so every sign-in, sign-out and
 * user/account change becomes one OTel log record, and v5's failed sign-ins (reported only to
 * `logger.error`) too. The app's own events and logger still run.
 * `NextAuth(withAudit(config))` · `Auth(request, withAudit(config))` · `NextAuth(withAudit(authOptions))` (v4).
 */
export function withAudit<C extends AuthConfigLike>(config: C, options: WithAuditOptions = {}): C {
  const recorder = new AuthjsRecorder(options, config.providers);
  const appEvents = (config.events ?? {}) as Record<string, EventHandler | undefined>;
  const appLogger = (config.logger ?? {}) as Record<string, AnyFn | undefined>;

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
      const scope = currentScope();
      if (scope) scope.signedIn = true;
      const type = account?.type ?? recorder.providerType(account?.provider);
      recorder.record({
        action: signInAction(type, isNewUser === true),
        outcome: "success",
        userId: idOf(user),
        metadata: providerMetadata(account),
      });
    }),
    signOut: wrap<SignOutMessage>("signOut", ({ token, session }) => {
      recorder.record({ action: ACTIONS.signOut, outcome: "success", userId: token?.sub ?? session?.userId ?? null });
    }),
    createUser: wrap<{ user: AuthUserLike }>("createUser", ({ user }) => {
      recorder.record({ action: ACTIONS.createUser, outcome: "success", userId: idOf(user) });
    }),
    updateUser: wrap<{ user: AuthUserLike }>("updateUser", ({ user }) => {
      recorder.record({ action: ACTIONS.updateUser, outcome: "success", userId: idOf(user) });
    }),
    linkAccount: wrap<{ user: AuthUserLike; account?: AuthAccountLike }>("linkAccount", ({ user, account }) => {
      recorder.record({ action: ACTIONS.linkAccount, outcome: "success", userId: idOf(user) ?? account?.userId ?? null, metadata: providerMetadata(account) });
    }),
  };
  if (recorder.sessionEvents) {
    events.session = wrap<{ session?: { userId?: string; user?: AuthUserLike }; token?: { sub?: string | null } }>("session", ({ session, token }) => {
      recorder.record({ action: ACTIONS.session, outcome: "success", userId: token?.sub ?? session?.userId ?? idOf(session?.user) });
    });
  }

  const logger = {
    ...appLogger,
    error(...args: unknown[]): void {
      const scope = currentScope();
      // next-auth 4 forwards browser logs posted to `/_log` here: never audit those
      const fromClient = scope?.request.authAction === "_log";
      if (!fromClient) recordFailure(recorder, args[0]);
      if (appLogger.error) return void appLogger.error(...args);
      if (!fromClient) defaultError(args);
    },
  };

  const audited = { ...config, events, logger } as C;
  Object.defineProperty(audited, RECORDER, { value: recorder, enumerable: false });
  return audited;
}

const idOf = (user: AuthUserLike | null | undefined): string | null => (user?.id == null ? null : String(user.id));

/** A v5 sign-in failure, known only from the AuthError handed to `logger.error`. */
function recordFailure(recorder: AuthjsRecorder, error: unknown): void {
  const type = signInFailureType(error);
  if (!type) return;
  const scope = currentScope();
  // MissingCSRF and friends on sign-out or session updates are not failed sign-ins
  if (scope?.request.authAction && !isSignInAttempt(scope.request.authAction, scope.request.method)) return;
  const providerId = scope?.request.providerId ?? providerOfError(error);
  const providerType = recorder.providerType(providerId) ?? (type === "CredentialsSignin" ? "credentials" : undefined);
  recorder.record({
    action: signInAction(providerType),
    outcome: "failure",
    userId: null,
    error: type,
    metadata: providerId ? { provider: providerId } : undefined,
  });
  if (scope) scope.failureRecorded = true;
}

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
