import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { Readable } from "node:stream";

/** Models of scripted streams whose upstream request was cancelled (the connection closed early). */
const cancelled = new Set<string>();

const encoder = new TextEncoder();

function chunk(i: number, text = `t${i} `): string {
  return `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"${text}"},"finish_reason":null}]}\n\n`;
}

/**
 * Tokens of a stream that stalls: no digits, because the guardrail rightly holds back a trailing digit
 * (it could begin a card number) until more text arrives, and a stalled stream never sends more.
 */
function word(i: number): string {
  return `${"abcdefghij"[i % 10] ?? "x"}word `;
}

/**
 * Streams scripted by model name: `fixture:<file>` replays a recording, `slow:<n>:<ms>` sends n tokens
 * ms apart then [DONE], `hang:<n>` sends n tokens then waits forever, `burst:<n>` sends n tokens at once.
 */
function scriptedStream(model: string): ReadableStream<Uint8Array> | undefined {
  const [kind, a, b] = model.split(":");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onCancel = () => {
    cancelled.add(model);
    if (timer !== undefined) clearTimeout(timer);
  };
  if (kind === "fixture" && a !== undefined) {
    const bytes = readFileSync(path.resolve(process.cwd(), "../shared/fixtures/upstream", a));
    return new ReadableStream({
      start(c) {
        c.enqueue(new Uint8Array(bytes));
        c.close();
      },
    });
  }
  if (kind === "text" && a !== undefined) {
    // `text:<words>`: one word per event, then [DONE].
    return new ReadableStream({
      start(c) {
        for (const w of a.split(" ")) c.enqueue(encoder.encode(chunk(0, `${w} `)));
        c.enqueue(encoder.encode("data: [DONE]\n\n"));
        c.close();
      },
    });
  }
  if (kind === "garbled") {
    // `garbled:<n>`: n tokens with an event that is not JSON after the first (a proxy rewrote it), then the end.
    const n = Number(a);
    return new ReadableStream({
      start(c) {
        for (let i = 0; i < n; i++) {
          c.enqueue(encoder.encode(chunk(i, word(i))));
          if (i === 0) c.enqueue(encoder.encode("data: <html>rewritten</html>\n\n"));
        }
        c.enqueue(encoder.encode("data: [DONE]\n\n"));
        c.close();
      },
    });
  }
  if (kind === "cut") {
    // `cut:<n>`: n tokens, then the body ends without [DONE] (an interrupted upstream).
    const n = Number(a);
    return new ReadableStream({
      start(c) {
        for (let i = 0; i < n; i++) c.enqueue(encoder.encode(chunk(i, word(i))));
        c.close();
      },
    });
  }
  if (kind === "delay") {
    // `delay:<ms>`: the first token only after ms (a slow model), then two more and [DONE].
    return new ReadableStream({
      async start(c) {
        await new Promise((r) => setTimeout(r, Number(a)));
        for (let i = 0; i < 3; i++) c.enqueue(encoder.encode(chunk(i, word(i))));
        c.enqueue(encoder.encode("data: [DONE]\n\n"));
        c.close();
      },
    });
  }
  if (kind === "burst") {
    const n = Number(a);
    return new ReadableStream({
      start(c) {
        for (let i = 0; i < n; i++) c.enqueue(encoder.encode(chunk(i)));
        c.enqueue(encoder.encode("data: [DONE]\n\n"));
        c.close();
      },
    });
  }
  if (kind === "slow" || kind === "hang") {
    const n = Number(a);
    const ms = kind === "slow" ? Number(b) : 5;
    let i = 0;
    return new ReadableStream({
      pull(c) {
        return new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            if (i < n) {
              c.enqueue(encoder.encode(kind === "hang" ? chunk(i, word(i)) : chunk(i)));
              i++;
            } else if (kind === "slow") {
              c.enqueue(encoder.encode("data: [DONE]\n\n"));
              c.close();
            } else return; // hang: never resolve, never close
            resolve();
          }, ms);
        });
      },
      cancel: onCancel,
    });
  }
  return undefined;
}

/**
 * The upstream the in-workerd tests talk to (through `outboundNode`, below). The request's `model`
 * picks the scenario, so a test scripts the upstream through the body it sends, and the upstream's
 * answer reports what it received.
 */
export async function outbound(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/__log") return Response.json({ cancelled: [...cancelled] });
  const text = await request.text();
  let model = "";
  try {
    const parsed: unknown = JSON.parse(text);
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      "model" in parsed &&
      typeof parsed.model === "string"
    ) {
      model = parsed.model;
    }
  } catch {
    // Non-JSON bodies fall through to the echo scenario.
  }
  if (url.pathname.includes(":")) model = url.pathname.split("/").pop()?.split(":")[0] ?? model;
  const status = /^status-(\d{3})$/.exec(model);
  if (status) {
    const code = Number(status[1]);
    return new Response(
      JSON.stringify({
        error: {
          message: `scripted failure; your key was ${request.headers.get("authorization") ?? request.headers.get("x-api-key") ?? request.headers.get("x-goog-api-key")}`,
          type: "x",
        },
      }),
      {
        status: code,
        headers: { "content-type": "application/json", "retry-after": "7", "set-cookie": "a=b" },
      },
    );
  }
  const scripted = scriptedStream(model);
  if (scripted !== undefined) {
    return new Response(scripted, { headers: { "content-type": "text/event-stream" } });
  }
  if (model === "html-error") return new Response("<html>bad gateway</html>", { status: 502 });
  if (model === "sse-basic") {
    return new Response('data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n', {
      headers: { "content-type": "text/event-stream", "x-request-id": "req_123", "set-cookie": "s=1" },
    });
  }
  // Echo: what the upstream received (URL, headers, body), as a JSON answer. Credential headers are
  // also reported as SHA-256 digests: the gateway's output guardrail rightly masks a key in any answer.
  const credentials: Record<string, string> = {};
  for (const name of ["authorization", "x-api-key", "x-goog-api-key"]) {
    const value = request.headers.get(name);
    if (value !== null) credentials[name] = await sha256Hex(value);
  }
  return Response.json({
    url: request.url,
    method: request.method,
    headers: Object.fromEntries(request.headers),
    credentials,
    body: text,
  });
}

/** Lowercase hex SHA-256 of `text`. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Miniflare's own header naming the Node service; the gateway never sent it, so the echo leaves it out. */
const MINIFLARE_SERVICE_HEADER = "mf-custom-node-service";
/** Hop-by-hop and framing headers describe the loopback connection, not the gateway's request. */
const CONNECTION_HEADERS = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "expect",
  "content-length",
]);

function webRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === MINIFLARE_SERVICE_HEADER || CONNECTION_HEADERS.has(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  // The loopback request carries the path and the Host of the gateway's upstream URL; every upstream
  // in vitest.workers.config.ts is https.
  return new Request(`https://${req.headers.host ?? "upstream.test"}${req.url ?? "/"}`, {
    method: req.method ?? "GET",
    headers,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" } : {}),
  });
}

/**
 * `outbound` as a Node handler, which is how vitest.workers.config.ts installs it. Why not the plain
 * `(Request) => Response` form: Miniflare keeps reading such a response's body after workerd has
 * closed the connection, so an upstream request the gateway cancelled (DELETE, a restarted object)
 * stayed alive in Node, its timers holding vitest's shutdown for 10 s. Here the closed connection
 * cancels the scripted stream, as a real provider's server would notice its client leave.
 */
export async function outboundNode(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const response = await outbound(webRequest(req));
  res.writeHead(response.status, Object.fromEntries(response.headers));
  const reader = response.body?.getReader();
  if (reader === undefined) {
    res.end();
    return;
  }
  res.on("close", () => {
    if (!res.writableFinished) void reader.cancel().catch(() => undefined);
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
  } catch {
    // The scripted stream failed or was cancelled: the connection is gone or ends here.
  }
  res.end();
}
