import type { ReactNode } from "react";

export const metadata = { title: "otel-auth-audit · Next.js + better-auth" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: "system-ui, sans-serif", maxWidth: 760, margin: "2rem auto", padding: "0 1rem" }}>
        <nav style={{ display: "flex", gap: "1rem", marginBottom: "1.5rem" }}>
          <a href="/">Account</a>
          <a href="/audit">My audit log</a>
        </nav>
        {children}
      </body>
    </html>
  );
}
