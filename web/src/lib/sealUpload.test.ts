// Sealed uploads: the ciphertext opens with the same key, nonce and key id (as the api opens it),
// not with another key id; nonces are 12 fresh bytes; the imported key is not extractable and the
// raw key bytes are wiped.
import { afterEach, describe, expect, it, vi } from "vitest";

import { fromBase64, gcmParams, NONCE_BYTES, sealFile, toBase64, type UploadKey } from "./sealUpload";

const PLAINTEXT = new TextEncoder().encode("Jordan Example - resume marker 7f3a\nPython, SQL, Docker\n");

function uploadKey(keyId = crypto.randomUUID()): { raw: Uint8Array<ArrayBuffer>; issued: UploadKey } {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const issued: UploadKey = {
    key_id: keyId,
    data_key: toBase64(raw),
    algorithm: "AES-256-GCM" as const,
    expires_at: new Date(Date.now() + 600_000).toISOString(),
  };
  return { raw, issued };
}

async function open(raw: Uint8Array<ArrayBuffer>, nonce: string, keyId: string, sealed: File): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]);
  const plain = await crypto.subtle.decrypt(gcmParams(fromBase64(nonce), keyId), key, await sealed.arrayBuffer());
  return new Uint8Array(plain);
}

const resume = () => new File([PLAINTEXT], "resume.txt", { type: "text/plain" });

afterEach(() => vi.restoreAllMocks());

describe("sealFile", () => {
  it("round-trips with the same key, nonce and key id", async () => {
    const { raw, issued } = uploadKey();
    const sealed = await sealFile(resume(), async () => issued);

    expect(sealed.key_id).toBe(issued.key_id);
    expect(sealed.file.name).toBe("resume.txt");
    expect(sealed.file.type).toBe("text/plain");
    // Ciphertext plus the 16-byte tag, and none of the plaintext shows through.
    const wire = new Uint8Array(await sealed.file.arrayBuffer());
    expect(wire.length).toBe(PLAINTEXT.length + 16);
    expect(new TextDecoder("latin1").decode(wire)).not.toContain("marker 7f3a");

    expect(await open(raw, sealed.nonce, issued.key_id, sealed.file)).toEqual(PLAINTEXT);
  });

  it("does not open under another key id (the additional data)", async () => {
    const { raw, issued } = uploadKey();
    const sealed = await sealFile(resume(), async () => issued);
    await expect(open(raw, sealed.nonce, crypto.randomUUID(), sealed.file)).rejects.toThrow();
  });

  it("uses a fresh 12-byte nonce for every file", async () => {
    const { issued } = uploadKey();
    const first = await sealFile(resume(), async () => issued);
    const second = await sealFile(resume(), async () => issued);
    expect(fromBase64(first.nonce)).toHaveLength(NONCE_BYTES);
    expect(fromBase64(second.nonce)).toHaveLength(NONCE_BYTES);
    expect(first.nonce).not.toBe(second.nonce);
    const bytes = async (f: File) => toBase64(new Uint8Array(await f.arrayBuffer()));
    expect(await bytes(first.file)).not.toBe(await bytes(second.file));
  });

  it("imports the key as not extractable and wipes the raw bytes", async () => {
    const importKey = vi.spyOn(crypto.subtle, "importKey");
    const { issued } = uploadKey();
    await sealFile(resume(), async () => issued);

    expect(importKey).toHaveBeenCalledTimes(1);
    const [format, keyData, algorithm, extractable, usages] = importKey.mock.calls[0]!;
    expect([format, algorithm, extractable, usages]).toEqual(["raw", "AES-GCM", false, ["encrypt"]]);
    expect(Array.from(keyData as Uint8Array).every((b) => b === 0)).toBe(true);
  });

  it("refuses a key for another algorithm or of the wrong length", async () => {
    const { issued } = uploadKey();
    await expect(sealFile(resume(), async () => ({ ...issued, algorithm: "AES-128-GCM" }) as unknown as UploadKey)).rejects.toThrow(
      /AES-128-GCM/,
    );
    const short = toBase64(crypto.getRandomValues(new Uint8Array(16)));
    await expect(sealFile(resume(), async () => ({ ...issued, data_key: short }))).rejects.toThrow(/wrong length/);
  });
});
