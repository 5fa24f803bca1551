"use client";

import { useEffect, useState } from "react";
import { authClient } from "@/lib/auth-client";

type Entries = NonNullable<Awaited<ReturnType<typeof authClient.auditLog.listAuditLogs>>["data"]>["entries"];

/** The signed-in user's own audit log, newest first (GET /api/auth/audit-log/list). */
export default function AuditPage() {
  const [entries, setEntries] = useState<Entries | null>(null);
  const [error, setError] = useState("");

  useEffect(() => {
    authClient.auditLog.listAuditLogs({ query: { limit: 50 } }).then(({ data, error }) => {
      if (error) setError(error.code ?? error.message ?? "error");
      else setEntries(data.entries);
    });
  }, []);

  if (error) return <p id="audit-error">Could not load the audit log: {error}</p>;
  if (!entries) return <p>Loading…</p>;
  return (
    <main>
      <h1>My audit log</h1>
      <table id="audit-log" cellPadding={6}>
        <thead>
          <tr>
            <th>When</th>
            <th>Action</th>
            <th>Outcome</th>
            <th>Severity</th>
            <th>IP address</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id} data-action={e.action} data-outcome={e.outcome}>
              <td>{new Date(e.createdAt).toLocaleString()}</td>
              <td>{e.action}</td>
              <td>{e.outcome}</td>
              <td>{e.severity}</td>
              <td>{e.ipAddress ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}
