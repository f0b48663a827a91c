// Request signing: the same test vector as the server's unit test, what is signed and what is not,
// multipart bodies signed over the exact bytes sent, and the clock correction.
import { afterEach, describe, expect, it } from "vitest";

import {
  adjustClock,
  canonicalRequest,
  hmacHex,
  NONCE_HEADER,
  sha256Hex,
  SIGNATURE_HEADER,
  signRequest,
  TIMESTAMP_HEADER,
} from "./signing";

// tests/unit/security/test_signing.py has the same vector (and openssl reproduces it).
const KEY = "be1d7f909bf00ec0cd70d469bc2fe9243ab4594188ede7f5e08f226cf4db5beb";
const SIGNATURE = "2c259a1b78d10255900e8625f300ba43d6868bb59829527cef67f104a3c9cce8";
const NONCE = "nonce-0123456789abcdef";
const URL_ = "http://127.0.0.1:8000/api/v1/interviews/42/answer?lang=en";

async function recompute(request: Request): Promise<string> {
  const url = new URL(request.url);
  const body = await request.clone().arrayBuffer();
  const message = canonicalRequest(
    request.method,
    url.pathname + url.search,
    await sha256Hex(body),
    Number(request.headers.get(TIMESTAMP_HEADER)),
    request.headers.get(NONCE_HEADER) ?? "",
  );
  return hmacHex(KEY, message);
}

afterEach(() => adjustClock(Date.now() / 1000));

describe("request signing", () => {
  it("matches the server's test vector", async () => {
    const request = new Request(URL_, { method: "POST", body: '{"text":"hello"}' });
    adjustClock(0, 0);
    await signRequest(request, KEY, { now: 1_700_000_000_000, nonce: NONCE });
    expect(request.headers.get(TIMESTAMP_HEADER)).toBe("1700000000");
    expect(request.headers.get(NONCE_HEADER)).toBe(NONCE);
    expect(request.headers.get(SIGNATURE_HEADER)).toBe(SIGNATURE);
    expect(await request.text()).toBe('{"text":"hello"}'); // the body is still there to send
  });

  it("signs every change with a fresh nonce and leaves reads alone", async () => {
    const a = new Request(URL_, { method: "DELETE" });
    const b = new Request(URL_, { method: "DELETE" });
    await signRequest(a, KEY);
    await signRequest(b, KEY);
    expect(a.headers.get(NONCE_HEADER)).toMatch(/^[0-9a-f]{32}$/);
    expect(a.headers.get(NONCE_HEADER)).not.toBe(b.headers.get(NONCE_HEADER));
    expect(a.headers.get(SIGNATURE_HEADER)).toBe(await recompute(a));

    const read = new Request(URL_);
    await signRequest(read, KEY);
    expect(read.headers.has(SIGNATURE_HEADER)).toBe(false);
  });

  it("signs a multipart upload over the bytes that are sent", async () => {
    const form = new FormData();
    form.append("kind", "resume");
    form.append("file", new Blob(["Backend engineer\n"], { type: "text/plain" }), "cv.txt");
    const request = new Request("http://localhost/api/v1/documents", { method: "POST", body: form });
    await signRequest(request, KEY);
    expect(request.headers.get(SIGNATURE_HEADER)).toBe(await recompute(request));
    expect(await request.text()).toContain("Backend engineer");
  });

  it("uses the server's clock once it has been told the offset", async () => {
    const now = 1_700_000_000_000;
    adjustClock(1_700_000_600, now); // the server is ten minutes ahead
    const request = new Request(URL_, { method: "POST", body: "{}" });
    await signRequest(request, KEY, { now });
    expect(request.headers.get(TIMESTAMP_HEADER)).toBe("1700000600");
  });
});
