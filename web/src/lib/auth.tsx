// Who is signed in: tokens in localStorage, the user loaded from /users/me, shared through context.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

import { api, tokenStore, unwrap } from "./client";
import type { User } from "./types";

interface AuthState {
  user: User | null;
  /** True until we know whether stored tokens still work. */
  loading: boolean;
  signIn(email: string, password: string): Promise<void>;
  signUp(email: string, password: string, name: string): Promise<void>;
  /** End the session here; `reason` becomes the `notice` of the sign-in page that follows. */
  signOut(reason?: string): Promise<void>;
  /** Why the user was signed out, when the app did it (e.g. the account was deleted). */
  notice: string | null;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [loading, setLoading] = useState(() => tokenStore.get() !== null);
  const [notice, setNotice] = useState<string | null>(null);

  const loadUser = useCallback(async () => {
    try {
      setUser(await unwrap(api.GET("/api/v1/users/me")));
    } catch {
      // A stale or revoked session: forget it and show the sign-in page.
      tokenStore.set(null);
      setUser(null);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    if (tokenStore.get()) void loadUser();
    // A failed refresh anywhere in the app clears the tokens; follow it here.
    return tokenStore.subscribe((tokens) => {
      if (!tokens) setUser(null);
    });
  }, [loadUser]);

  const value = useMemo<AuthState>(
    () => ({
      user,
      loading,
      notice,
      async signIn(email, password) {
        tokenStore.set(await unwrap(api.POST("/api/v1/auth/login", { body: { email, password } })));
        setNotice(null);
        await loadUser();
      },
      async signUp(email, password, name) {
        tokenStore.set(await unwrap(api.POST("/api/v1/auth/register", { body: { email, password, name } })));
        setNotice(null);
        await loadUser();
      },
      async signOut(reason) {
        const tokens = tokenStore.get();
        setNotice(reason ?? null);
        tokenStore.set(null);
        setUser(null);
        if (tokens) {
          // Best effort: the local session is gone either way.
          await api.POST("/api/v1/auth/logout", { body: { refresh_token: tokens.refresh_token } }).catch(() => undefined);
        }
      },
    }),
    [user, loading, notice, loadUser],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error("useAuth outside AuthProvider");
  return ctx;
}
