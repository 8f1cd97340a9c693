// The one JSON-over-HTTP call of the scripts, the benchmarks and the system tests: what a client of the API sends.

/**
 * Calls `url` with a JSON body (when given) and a bearer token (when given). Answers status, headers and the parsed
 * body (null when empty); never throws on 4xx/5xx, so the caller decides what an answer means.
 * @param {string} method
 * @param {string} url
 * @param {unknown} [body]
 * @param {string} [token]
 * @param {Record<string, string>} [headers]
 * @returns {Promise<{ status: number, headers: Headers, body: any }>}
 */
export async function callJson(method, url, body, token, headers = {}) {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}
