import { genericOAuth } from "better-auth/plugins";

/**
 * An OAuth provider "acme" with no network: better-auth's generic-OAuth plugin with the token
 * exchange and user info given as functions (the provider is the true edge we stand in for).
 */
export const acmeOAuth = () =>
  genericOAuth({
    config: [
      {
        providerId: "acme",
        clientId: "acme-client",
        clientSecret: "acme-secret",
        authorizationUrl: "http://127.0.0.1:9/authorize",
        getToken: async () => ({ accessToken: "acme-access-token", tokenType: "Bearer" }),
        getUserInfo: async () => ({ id: "acme-42", email: "oauth@example.com", name: "OAuth User", emailVerified: true }),
      },
    ],
  });
