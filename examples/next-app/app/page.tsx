"use client";

import { useState, type FormEvent } from "react";
import { authClient } from "@/lib/auth-client";

/** Reads a form's fields by name. */
const fields = (event: FormEvent<HTMLFormElement>) => Object.fromEntries(new FormData(event.currentTarget)) as Record<string, string>;

export default function AccountPage() {
  const { data: session, isPending, refetch } = authClient.useSession();
  const [message, setMessage] = useState("");

  // Runs one auth call and shows its result: better-auth's client returns { data, error }.
  async function run(label: string, call: () => Promise<{ error: { message?: string; code?: string } | null }>) {
    const { error } = await call();
    setMessage(error ? `${label} failed: ${error.code ?? error.message}` : `${label}: done`);
    refetch();
  }

  if (isPending) return <p>Loading…</p>;
  return (
    <main>
      <h1>Account</h1>
      <p id="status">{session ? `Signed in as ${session.user.email}` : "Signed out"}</p>
      <p id="message" role="status">{message}</p>

      {session ? (
        <>
          <form
            id="change-password"
            onSubmit={(e) => {
              e.preventDefault();
              const f = fields(e);
              void run("Change password", () => authClient.changePassword({ currentPassword: f.currentPassword, newPassword: f.newPassword }));
            }}
          >
            <h2>Change password</h2>
            <input name="currentPassword" type="password" placeholder="Current password" required />
            <input name="newPassword" type="password" placeholder="New password" required />
            <button type="submit">Change password</button>
          </form>
          <button id="sign-out" onClick={() => void run("Sign out", () => authClient.signOut())}>
            Sign out
          </button>
        </>
      ) : (
        <>
          <form
            id="sign-up"
            onSubmit={(e) => {
              e.preventDefault();
              const f = fields(e);
              void run("Sign up", () => authClient.signUp.email({ name: f.name, email: f.email, password: f.password }));
            }}
          >
            <h2>Sign up</h2>
            <input name="name" placeholder="Name" required />
            <input name="email" type="email" placeholder="Email" required />
            <input name="password" type="password" placeholder="Password" required />
            <button type="submit">Sign up</button>
          </form>
          <form
            id="sign-in"
            onSubmit={(e) => {
              e.preventDefault();
              const f = fields(e);
              void run("Sign in", () => authClient.signIn.email({ email: f.email, password: f.password }));
            }}
          >
            <h2>Sign in</h2>
            <input name="email" type="email" placeholder="Email" required />
            <input name="password" type="password" placeholder="Password" required />
            <button type="submit">Sign in</button>
          </form>
        </>
      )}
    </main>
  );
}
