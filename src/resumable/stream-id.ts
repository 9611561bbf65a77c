/** 16 random bytes (128 bits), base64url without padding: 22 URL-safe characters. */
function randomPart(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Ids minted before stream hosts (and with `STREAM_HOSTS=0`): the id names its own object. */
const OWN_OBJECT = /^[A-Za-z0-9_-]{22}$/;
/** `<host>.<22 random characters>`: the host names the object that holds the stream with others. */
const HOSTED = /^([a-z0-9]{1,8}-\d{1,4})\.[A-Za-z0-9_-]{22}$/;

/**
 * The name of one of `hosts` stream-host objects near `colo`, chosen at random: `dfw-3`. Naming hosts
 * by colo keeps each object near the callers that created it (an object is placed near its first
 * caller); the random index spreads one colo's streams over its hosts.
 */
export function streamHostName(colo: string, hosts: number): string {
  const place =
    colo
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "")
      .slice(0, 8) || "any";
  return `${place}-${Math.floor(Math.random() * hosts)}`;
}

/** A new stream id: on `host` (see streamHostName), or in an object of its own when `host` is undefined. */
export function newStreamId(host?: string): string {
  return host === undefined ? randomPart() : `${host}.${randomPart()}`;
}

/** True for something shaped like a stream id; anything else is answered 404 without a lookup. */
export function isStreamId(s: string): boolean {
  return OWN_OBJECT.test(s) || HOSTED.test(s);
}

/** The name of the Durable Object that holds stream `id` (for `idFromName`): its host, or the id itself. */
export function objectNameOf(id: string): string {
  return HOSTED.exec(id)?.[1] ?? id;
}
