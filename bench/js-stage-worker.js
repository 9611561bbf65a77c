/**
 * A calibration target, not a product: the passthrough plus one JavaScript TransformStream that
 * hands every chunk on unchanged. It is the floor for any Worker that sees the stream in JS
 * (the gateway must, to frame errors, resume and guard), so the table can separate what workerd
 * charges for moving chunks through JS from what the gateway's own code costs.
 */
export default {
  /**
   * @param {Request} request
   * @param {{ UPSTREAM: string }} env
   */
  async fetch(request, env) {
    const url = new URL(request.url);
    const upstream = await fetch(env.UPSTREAM + url.pathname + url.search, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
    if (upstream.body === null) return upstream;
    const stage = new TransformStream({
      transform(chunk, controller) {
        controller.enqueue(chunk);
      },
    });
    return new Response(upstream.body.pipeThrough(stage), upstream);
  },
};
