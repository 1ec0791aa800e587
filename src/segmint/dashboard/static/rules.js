// Rule editor: previews the rule as it changes (debounced), from this server only.
(function () {
  "use strict";

  function text(tag, content, attrs) {
    var el = document.createElement(tag);
    el.textContent = content;
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    return el;
  }

  function showError(body, error) {
    var box = text("div", "", { class: "rule-error", role: "alert" });
    box.appendChild(text("p", error.message, { class: "error", "data-role": "message" }));
    if (error.caret) {
      var caret = error.caret.line + "\n" + " ".repeat(error.caret.column) + "^";
      box.appendChild(text("pre", caret, { class: "caret", "data-role": "caret" }));
    }
    if (error.suggestion) {
      box.appendChild(text("p", error.suggestion, { "data-role": "suggestion" }));
    }
    body.appendChild(box);
  }

  function showAudience(body, view) {
    var p = document.createElement("p");
    p.appendChild(text("strong", view.customers.toLocaleString("en-US"), { "data-role": "size" }));
    var share = (view.share_of_customers * 100).toFixed(1);
    p.appendChild(document.createTextNode(
      " customers (" + share + "% of all) as of " + view.as_of + "."));
    body.appendChild(p);
    if (!view.sample.length) { return; }
    var table = text("table", "", { "data-role": "sample" });
    table.appendChild(text("caption", "A sample of the audience", { class: "muted" }));
    var head = document.createElement("tr");
    Object.keys(view.sample[0]).forEach(function (k) {
      head.appendChild(text("th", k, { scope: "col" }));
    });
    table.appendChild(document.createElement("thead")).appendChild(head);
    var rows = table.appendChild(document.createElement("tbody"));
    view.sample.forEach(function (row) {
      var tr = rows.appendChild(document.createElement("tr"));
      Object.keys(row).forEach(function (k) {
        tr.appendChild(text("td", row[k] === null ? "" : String(row[k])));
      });
    });
    body.appendChild(table);
  }

  function render(view) {
    var body = document.getElementById("preview-body");
    body.textContent = "";
    if (view.error) {
      showError(body, view.error);
    } else if (view.valid) {
      showAudience(body, view);
    } else {
      body.appendChild(text("p", "Type a rule to see its audience.", { class: "muted" }));
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("rule");
    var saved = document.getElementById("save-rule");
    var timer = null;
    var asked = 0;
    input.addEventListener("input", function () {
      saved.value = input.value;
      clearTimeout(timer);
      timer = setTimeout(function () {
        var mine = ++asked;
        fetch("/rules/preview?rule=" + encodeURIComponent(input.value), {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        })
          .then(function (r) { return r.json(); })
          .then(function (view) { if (mine === asked) { render(view); } })
          .catch(function () {});
      }, 250);
    });
  });
})();
