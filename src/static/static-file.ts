/** A file the gateway serves itself (built into the bundle by scripts/build-static.ts). */
export interface StaticFile {
  readonly type: string;
  /** A strong ETag of `body`, quoted. */
  readonly etag: string;
  readonly body: string;
}

/**
 * Answers GET or HEAD for a static file. `no-cache` makes browsers revalidate on every load (a new
 * deploy is seen at once), which the ETag turns into an empty 304 when nothing changed.
 */
export function serveStatic(request: Request, file: StaticFile): Response {
  const headers = new Headers({
    "content-type": file.type,
    "cache-control": "no-cache",
    etag: file.etag,
    "x-content-type-options": "nosniff",
  });
  if (matchesEtag(request.headers.get("if-none-match"), file.etag))
    return new Response(null, { status: 304, headers });
  return new Response(request.method === "HEAD" ? null : file.body, { headers });
}

/** `If-None-Match` is a list of tags or `*`; weak tags compare equal to strong ones for GET. */
function matchesEtag(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((t) => {
    const tag = t.trim();
    return tag === "*" || tag.replace(/^W\//, "") === etag;
  });
}
