// Request signing for the api's replay guard (docs/security.md): every POST/PUT/PATCH/DELETE of a
// signed-in session carries a timestamp, a random nonce and an HMAC-SHA256 (WebCrypto) over
// method, path with query, the body's SHA-256, timestamp and nonce, keyed by the session's
// signing_key from sign-in.

export const TIMESTAMP_HEADER = "X-Mocki-Timestamp";
export const NONCE_HEADER = "X-Mocki-Nonce";
export const SIGNATURE_HEADER = "X-Mocki-Signature";
const SCHEME = "MOCKI-HMAC-SHA256";
const SIGNED_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

// Server clock minus ours, learnt from a "request_stale" answer, so a wrong clock costs one retry.
let clockOffsetMs = 0;

export function adjustClock(serverTimeS: number, now: number = Date.now()): void {
  clockOffsetMs = serverTimeS * 1000 - now;
}

export function isSigned(method: string): boolean {
  return SIGNED_METHODS.has(method.toUpperCase());
}

function toHex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(new ArrayBuffer(hex.length / 2));
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

export async function sha256Hex(body: ArrayBuffer): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", body));
}

/** The exact text that is signed: six lines joined by "\n", no trailing newline. */
export function canonicalRequest(
  method: string,
  target: string,
  bodySha256: string,
  timestamp: number,
  nonce: string,
): string {
  return [SCHEME, method.toUpperCase(), target, bodySha256, String(timestamp), nonce].join("\n");
}

export async function hmacHex(keyHex: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", fromHex(keyHex), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return toHex(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
}

export function newNonce(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(16)).buffer);
}

/** Add the three signing headers to a mutating request (others are left alone). */
export async function signRequest(
  request: Request,
  keyHex: string,
  options: { now?: number; nonce?: string } = {},
): Promise<void> {
  if (!isSigned(request.method)) return;
  // A clone, so the body is still there to send; its bytes are exactly the ones sent
  // (a FormData body's multipart boundary was fixed when the Request was made).
  const body = await request.clone().arrayBuffer();
  const url = new URL(request.url);
  const timestamp = Math.floor(((options.now ?? Date.now()) + clockOffsetMs) / 1000);
  const nonce = options.nonce ?? newNonce();
  const message = canonicalRequest(request.method, url.pathname + url.search, await sha256Hex(body), timestamp, nonce);
  request.headers.set(TIMESTAMP_HEADER, String(timestamp));
  request.headers.set(NONCE_HEADER, nonce);
  request.headers.set(SIGNATURE_HEADER, await hmacHex(keyHex, message));
}
