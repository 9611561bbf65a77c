/**
 * The upstream the in-workerd tests talk to: Miniflare routes every outbound `fetch` of the worker
 * here (in Node). The request's `model` picks the scenario, so a test scripts the upstream through
 * the body it sends, and the upstream's answer reports what it received.
 */
export async function outbound(request: Request): Promise<Response> {
  const url = new URL(request.url);
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
  if (model === "html-error") return new Response("<html>bad gateway</html>", { status: 502 });
  if (model === "sse-basic") {
    return new Response('data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n', {
      headers: { "content-type": "text/event-stream", "x-request-id": "req_123", "set-cookie": "s=1" },
    });
  }
  // Echo: what the upstream received (URL, headers, body), as a JSON answer.
  return Response.json({
    url: request.url,
    method: request.method,
    headers: Object.fromEntries(request.headers),
    body: text,
  });
}
