import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // This app sits inside the otel-auth-audit repository: its own directory is the workspace root.
  turbopack: { root: import.meta.dirname },
};

export default nextConfig;
