/** 16 random bytes (128 bits), base64url without padding: 22 URL-safe characters. */
export function newStreamId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const STREAM_ID = /^[A-Za-z0-9_-]{22}$/;

/** True for something shaped like a stream id; anything else is answered 404 without a lookup. */
export function isStreamId(s: string): boolean {
  return STREAM_ID.test(s);
}
