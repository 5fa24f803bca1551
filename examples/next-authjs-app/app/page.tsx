import { auth } from "@/auth";

// Sign-in and sign-out use Auth.js' own pages under /api/auth, so every request goes through
// the audited route handler.
export default async function Home() {
  const session = await auth();
  return (
    <main>
      <h1>Account</h1>
      <p id="status">{session?.user ? `Signed in as ${session.user.email}` : "Signed out"}</p>
      {session?.user ? <a href="/api/auth/signout">Sign out</a> : <a href="/api/auth/signin">Sign in</a>}
    </main>
  );
}
