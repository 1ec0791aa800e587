/* segmint storefront snippet: the signed-in shopper's segments on the page root.
 *
 * <script async src="https://segmint.example.com/v1/snippet.js"
 *   data-key="sgm_..." data-customer="ID" data-expires="EPOCH" data-token="HEX"></script>
 *
 * Sets <html data-segments="slug slug ..."> and dispatches "segmint:segments" on document
 * with detail {segments: [...]} (and an error field when the lookup failed). Never throws.
 */
(function () {
  "use strict";
  var TIMEOUT_MS = 5000;
  var script = document.currentScript;

  function announce(segments, error) {
    var detail = { segments: segments };
    if (error) detail.error = error;
    try {
      document.documentElement.setAttribute("data-segments", segments.join(" "));
      document.dispatchEvent(new CustomEvent("segmint:segments", { detail: detail }));
    } catch (ignored) {
      /* a listener's error is its own; the page goes on */
    }
  }

  function fail(status, code, message) {
    announce([], { status: status, code: code, message: message });
  }

  try {
    var config = script ? script.dataset : {};
    if (!config.key) return fail(0, "no_key", "the script tag has no data-key");
    if (!config.customer) return announce([]); /* a guest: no segments, no error */
    var base = (config.api || new URL(script.src, location.href).origin).replace(/\/+$/, "");
    var query = new URLSearchParams({
      customer: config.customer,
      expires: config.expires || "",
      token: config.token || "",
    });
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller && setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    fetch(base + "/v1/storefront/segments?" + query, {
      headers: { Authorization: "Bearer " + config.key },
      credentials: "omit",
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          if (response.ok && body && Array.isArray(body.segments)) return announce(body.segments);
          var error = (body && body.error) || {};
          fail(response.status, error.code || "error", error.message || "HTTP " + response.status);
        });
      })
      .catch(function (reason) {
        fail(0, "network", String((reason && reason.message) || reason));
      })
      .then(function () {
        if (timer) clearTimeout(timer);
      });
  } catch (reason) {
    fail(0, "script", String((reason && reason.message) || reason));
  }
})();
