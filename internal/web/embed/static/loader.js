/* Upstate widget loader: inline, or as a file on your own origin, with data-src (widget.js)
   and the widget's data- attributes on this script tag. It fetches widget.js after the
   page's load event, so a hung or missing status page never holds the page. Until the
   widget arrives, Upstate.status() waits for it; it resolves to null if widget.js fails or
   data-timeout ms pass, and never throws. */
window.Upstate = window.Upstate || (function (w, d, me) {
  var q = [], dead = false, get = function (n) { return me && me.getAttribute("data-" + n); };
  var ms = +(get("timeout") || 3000);
  function load() {
    var s = d.createElement("script"), a = me ? me.attributes : [];
    for (var i = 0; i < a.length; i++) if (a[i].name.indexOf("data-") === 0) s.setAttribute(a[i].name, a[i].value);
    s.onerror = function () { dead = true; q.splice(0).forEach(function (c) { c[1](null); }); };
    s.src = get("src");
    d.head.appendChild(s);
  }
  if (d.readyState === "complete") load(); else w.addEventListener("load", load);
  return { q: q, status: function (o) {
    return new Promise(function (resolve) {
      if (dead) return resolve(null);
      q.push([o, resolve]);
      setTimeout(resolve, ms, null);
    });
  } };
})(window, document, document.currentScript);
