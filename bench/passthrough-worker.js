/**
 * The baseline a gateway is judged against: the least a Worker can do to proxy a stream. It
 * forwards method, headers and body to the same path under `env.UPSTREAM` and returns the
 * upstream's response object as is, so workerd pipes the body without any JavaScript per chunk.
 */
export default {
  /**
   * @param {Request} request
   * @param {{ UPSTREAM: string }} env
   */
  fetch(request, env) {
    const url = new URL(request.url);
    return fetch(env.UPSTREAM + url.pathname + url.search, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
  },
};
