// console.js keeps the admin's check pages live from GET /api/v1/events
// (Server-Sent Events). Progressive: every page works without it. Text
// goes in with textContent only, never as markup.
(function () {
  "use strict";
  var live = document.body.getAttribute("data-live");
  if (!live || !window.EventSource) return;
  var es = new EventSource("/api/v1/events?" + live);
  var hint = document.querySelector("[data-live-hint]");
  function show() { if (hint) hint.hidden = false; }
  function scope(id) {
    var rows = document.getElementById("checks");
    return rows ? rows.querySelector('tr[data-check="' + CSS.escape(id) + '"]') : document;
  }
  function ms(v) { return v < 1000 ? Math.round(v) + " ms" : (v / 1000).toFixed(2) + " s"; }
  es.addEventListener("state", function (e) {
    var d = JSON.parse(e.data), el = scope(d.check);
    var st = el && el.querySelector("[data-state]");
    if (st) {
      st.textContent = d.describe.charAt(0).toUpperCase() + d.describe.slice(1);
      st.className = "state state-" + d.to;
    }
    var since = el && el.querySelector("[data-since]");
    if (since) since.textContent = "since " + new Date(d.since).toLocaleString();
    show();
  });
  es.addEventListener("result", function (e) {
    var d = JSON.parse(e.data), body = document.getElementById("results");
    if (!body) return;
    var tr = document.createElement("tr");
    tr.className = "outcome-" + d.outcome + " fresh";
    [new Date(d.at).toLocaleString(), d.outcome, d.latency_ms ? ms(d.latency_ms) : "", d.evidence].forEach(function (t) {
      var td = document.createElement("td");
      td.textContent = t;
      tr.appendChild(td);
    });
    body.insertBefore(tr, body.firstChild);
    while (body.rows.length > 20) body.deleteRow(-1);
  });
  es.addEventListener("incident", show);
})();
