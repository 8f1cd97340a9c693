/**
 * The CloudFront Function (viewer request, default behaviour only) that lets the single-page app own its URLs:
 * a request for a route such as `/events/evt_123` gets the app's shell, `/index.html`, and the app's router
 * takes it from there (a reload or a shared link works). Files — a dot in the last path segment — pass
 * unchanged, so `/assets/index-3f2a.js` is the file and a missing one stays a miss.
 *
 * Why a function and not the distribution's custom error responses (403/404 → /index.html): those apply to
 * every origin, so the API's own 404 (`EVENT_NOT_FOUND`) or 403 would reach clients as a 200 HTML page. The
 * function runs on the web bucket's behaviour only. `/api/` and `/socket.io/` are left alone even here: they
 * have behaviours of their own once the load balancer is known, and before that they must not look like pages.
 *
 * CloudFront Functions run a restricted JavaScript (runtime cloudfront-js-2.0): one `handler`, no modules.
 */
export const SPA_ROUTING_SOURCE = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var isFile = /\\.[^/]*$/.test(uri);
  var isApi = uri.indexOf('/api/') === 0 || uri.indexOf('/socket.io/') === 0;
  if (!isFile && !isApi) request.uri = '/index.html';
  return request;
}`;
