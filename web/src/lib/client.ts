// The typed api client: openapi-fetch over the generated schema, with the Bearer token attached,
// changes signed for the replay guard (signing.ts), and one silent refresh through /auth/refresh
// when the access token has expired.
import createClient from "openapi-fetch";

import type { paths } from "../api/schema";
import { adjustClock, isSigned, signRequest } from "./signing";

export const API_BASE = "/api/v1";
const TOKENS_KEY = "mocki.tokens";

export interface Tokens {
  access_token: string;
  refresh_token: string;
  /** The session's request-signing key (hex); absent in sessions stored before signing existed. */
  signing_key?: string;
}

/** An error the api (or the network) reported, with the message meant for a person. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

type Listener = (tokens: Tokens | null) => void;
const listeners = new Set<Listener>();

export const tokenStore = {
  get(): Tokens | null {
    const raw = localStorage.getItem(TOKENS_KEY);
    if (!raw) return null;
    try {
      const parsed = JSON.parse(raw) as Partial<Tokens>;
      if (typeof parsed.access_token === "string" && typeof parsed.refresh_token === "string") {
        const tokens: Tokens = { access_token: parsed.access_token, refresh_token: parsed.refresh_token };
        if (typeof parsed.signing_key === "string") tokens.signing_key = parsed.signing_key;
        return tokens;
      }
    } catch {
      // A corrupt entry is the same as no session; it is cleared below.
    }
    localStorage.removeItem(TOKENS_KEY);
    return null;
  },
  set(tokens: Tokens | null): void {
    if (tokens) {
      localStorage.setItem(
        TOKENS_KEY,
        JSON.stringify({
          access_token: tokens.access_token,
          refresh_token: tokens.refresh_token,
          signing_key: tokens.signing_key,
        }),
      );
    } else {
      localStorage.removeItem(TOKENS_KEY);
    }
    for (const listener of listeners) listener(tokens);
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

// Several requests may hit 401 at once; they share one refresh call.
let refreshing: Promise<boolean> | null = null;

export function refreshTokens(): Promise<boolean> {
  refreshing ??= (async () => {
    const current = tokenStore.get();
    if (!current) return false;
    try {
      const res = await fetch(`${API_BASE}/auth/refresh`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: current.refresh_token }),
      });
      if (!res.ok) {
        tokenStore.set(null);
        return false;
      }
      tokenStore.set((await res.json()) as Tokens);
      return true;
    } catch {
      // Offline: keep the session, the caller's request fails with its own error.
      return false;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

function isAuthEndpoint(url: string): boolean {
  return new URL(url, window.location.origin).pathname.startsWith(`${API_BASE}/auth/`);
}

/** True (and the clock corrected) when the api refused a request for its timestamp. */
async function isStale(response: Response): Promise<boolean> {
  if (response.status !== 401) return false;
  try {
    const body = (await response.clone().json()) as { error?: { code?: string; details?: { server_time?: number } } };
    const serverTime = body.error?.details?.server_time;
    if (body.error?.code !== "request_stale" || typeof serverTime !== "number") return false;
    adjustClock(serverTime);
    return true;
  } catch {
    return false;
  }
}

/** fetch with the access token and a signature, re-signed once if this machine's clock was off,
 * and retried once after a refresh if the token was rejected. */
export async function authFetch(request: Request): Promise<Response> {
  // Each attempt consumes a body, and each is signed afresh (new nonce: the api refuses replays).
  const resign = request.clone();
  const retry = request.clone();
  const send = async (req: Request): Promise<Response> => {
    const tokens = tokenStore.get();
    if (tokens) req.headers.set("Authorization", `Bearer ${tokens.access_token}`);
    if (tokens?.signing_key && !isAuthEndpoint(req.url)) await signRequest(req, tokens.signing_key);
    try {
      return await fetch(req);
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") throw err;
      throw new ApiError(0, "network_error", "Could not reach the MOCKI server. Check that it is running.");
    }
  };
  const stored = tokenStore.get();
  // A session stored before request signing existed gets its key from one refresh.
  if (stored && !stored.signing_key && isSigned(request.method) && !isAuthEndpoint(request.url)) {
    await refreshTokens();
  }
  let response = await send(request);
  if (await isStale(response)) response = await send(resign);
  if (response.status !== 401 || !tokenStore.get() || isAuthEndpoint(request.url)) return response;
  return (await refreshTokens()) ? send(retry) : response;
}

// Paths in the schema carry the /api/v1 prefix, so the client is rooted at the origin.
export const api = createClient<paths>({ baseUrl: "", fetch: authFetch });

/** Turn an error body {"error": {code, message, details}} (or anything else) into an ApiError. */
export function toApiError(status: number, body: unknown): ApiError {
  if (body && typeof body === "object" && "error" in body) {
    const err = (body as { error: unknown }).error;
    if (err && typeof err === "object" && "message" in err) {
      const { code, message, details } = err as { code?: unknown; message?: unknown; details?: unknown };
      return new ApiError(status, String(code ?? "error"), String(message), details);
    }
  }
  if (status === 401) return new ApiError(401, "unauthorized", "Your session has expired. Please sign in again.");
  return new ApiError(status, "http_error", `The server answered with an unexpected error (HTTP ${status}).`);
}

export async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (e.g. a proxy error page); toApiError falls back to the status.
  }
  return toApiError(response.status, body);
}

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Await an openapi-fetch call and return its data, or throw the api's error as an ApiError. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || error !== undefined) throw toApiError(response.status, error);
  return data as T;
}

export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** POST a multipart form (file uploads), with the same auth and error handling as the typed client. */
export async function postForm<T>(path: string, form: FormData): Promise<T> {
  const response = await authFetch(new Request(`${API_BASE}${path}`, { method: "POST", body: form }));
  if (!response.ok) throw await errorFromResponse(response);
  return (await response.json()) as T;
}
