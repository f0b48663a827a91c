// Uploads sealed in the browser (docs/security.md, "Browser encryption of uploads"): the api issues
// a one-time AES-256-GCM data key, the file is encrypted here with WebCrypto, and only ciphertext
// crosses the wire. The key id is the additional data, so a ciphertext cannot be replayed under
// another key.
import { API_BASE, authFetch, errorFromResponse } from "./client";
import type { UploadKey } from "./types";

export type { UploadKey };

export const UPLOAD_ALGORITHM = "AES-256-GCM";
export const NONCE_BYTES = 12;
const KEY_BYTES = 32;
const TAG_BITS = 128;

/** The multipart fields of a sealed upload: the ciphertext as `file`, and how to open it. */
export interface SealedUpload {
  file: File;
  key_id: string;
  /** Base64 of the 12-byte AES-GCM nonce. */
  nonce: string;
}

/** False in a non-secure context (plain http on a host other than localhost): no crypto.subtle. */
export function canSealInBrowser(): boolean {
  return typeof globalThis.crypto?.subtle?.encrypt === "function";
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The AES-GCM parameters both sides use: the nonce as iv, the key id as additional data. */
export function gcmParams(nonce: Uint8Array<ArrayBuffer>, keyId: string): AesGcmParams {
  return { name: "AES-GCM", iv: nonce, additionalData: new TextEncoder().encode(keyId), tagLength: TAG_BITS };
}

/** Ask the api for a one-time data key. */
export async function issueUploadKey(): Promise<UploadKey> {
  const response = await authFetch(new Request(`${API_BASE}/documents/upload-keys`, { method: "POST" }));
  if (!response.ok) throw await errorFromResponse(response);
  return (await response.json()) as UploadKey;
}

/** Encrypt the file's bytes under a fresh data key from `issue`; the result keeps the file's
 * name and type so the api still knows what it will decrypt. */
export async function sealFile(file: File, issue: () => Promise<UploadKey> = issueUploadKey): Promise<SealedUpload> {
  const upload = await issue();
  if (upload.algorithm !== UPLOAD_ALGORITHM) {
    throw new Error(`The server offered ${upload.algorithm}; this page encrypts only with ${UPLOAD_ALGORITHM}.`);
  }
  const raw = fromBase64(upload.data_key);
  let key: CryptoKey;
  try {
    if (raw.length !== KEY_BYTES) throw new Error("The server sent an upload key of the wrong length.");
    // Not extractable: once imported, no script on the page can read the key back.
    key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt"]);
  } finally {
    raw.fill(0);
  }
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const ciphertext = await crypto.subtle.encrypt(gcmParams(nonce, upload.key_id), key, await file.arrayBuffer());
  return {
    file: new File([ciphertext], file.name, { type: file.type }),
    key_id: upload.key_id,
    nonce: toBase64(nonce),
  };
}
