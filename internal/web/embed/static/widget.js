/* Upstate status widget: a status line for help menus, Upstate.status()
   for error dialogs, and an optional banner. No dependencies, no eval, no
   inline styles (classes from widget.css, which it adds). If the status page
   is down or slow it gives up quietly after data-timeout ms and shows
   nothing. loader.js queues calls until it comes. */
(function (w, d) {
  "use strict";
  if (w.Upstate && w.Upstate.mount) return;
  var me = d.currentScript, attr = function (n, dflt) {
    var v = me && me.getAttribute("data-" + n);
    return v === null || v === undefined ? dflt : v;
  };
  var base = attr("url", me && me.src ? new URL(me.src, d.baseURI).origin : "");
  var timeout = +attr("timeout", 3000), refresh = +attr("refresh", 60) * 1000;
  var cached = null, cachedAt = 0, inflight = null;

  // widget.css is beside us, added after the load event so that it cannot
  // hold the page; a <link> the page has is not doubled.
  var css = me && me.src ? new URL("widget.css", me.src).href : "";
  function style() {
    var ls = d.querySelectorAll("link[rel~=stylesheet]");
    for (var i = 0; i < ls.length; i++) if (ls[i].href === css) return;
    var l = el("link");
    l.rel = "stylesheet";
    l.href = css;
    d.head.appendChild(l);
  }
  if (css) { if (d.readyState === "complete") style(); else w.addEventListener("load", style); }

  // A summary, or the failure to read one, is reused for 30 s: in an outage
  // every error dialog asks, and none should wait or knock again.
  function fetchSummary() {
    if (cachedAt && Date.now() - cachedAt < 30000) return Promise.resolve(cached);
    if (inflight) return inflight;
    inflight = new Promise(function (resolve) {
      var done = false, finish = function (v) {
        if (!done) { done = true; inflight = null; cached = v; cachedAt = Date.now(); resolve(v); }
      };
      var ctl = w.AbortController ? new AbortController() : null;
      var timer = setTimeout(function () { if (ctl) ctl.abort(); finish(null); }, timeout);
      try {
        // no-cache revalidates with the ETag (a cheap 304) rather than
        // trusting the HTTP cache for 30 s: our own cache sets the pace.
        w.fetch(base + "/api/v2/summary.json", { mode: "cors", credentials: "omit", cache: "no-cache", signal: ctl && ctl.signal })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (j) { clearTimeout(timer); finish(j && j.status ? j : null); },
                function () { clearTimeout(timer); finish(null); });
      } catch (e) { clearTimeout(timer); finish(null); }
    });
    return inflight;
  }

  function matches(c, want) {
    return !want || !want.length || want.indexOf(c.id) >= 0 || want.indexOf(c.name) >= 0;
  }

  // status resolves to what the page says about the components (all when
  // none are given), or null when it cannot be read; it never rejects.
  function status(opts) {
    var want = opts && opts.components;
    return fetchSummary().then(function (s) {
      if (!s) return null;
      var pageURL = (s.page && s.page.url) || base;
      var abs = function (u) { return u && u.charAt(0) === "/" ? base + u : u; };
      var comps = (s.components || []).filter(function (c) { return !c.group && matches(c, want); });
      var incs = (s.incidents || []).filter(function (i) {
        return !want || !want.length || (i.components || []).some(function (c) { return matches(c, want); });
      }).map(function (i) {
        var u = (i.incident_updates || [])[0];
        return { id: i.id, name: i.name, status: i.status, impact: i.impact, url: abs(i.shortlink) || pageURL + "/incidents/" + i.id,
          update: u ? u.body : "" };
      });
      var worst = "none", rank = { none: 0, maintenance: 1, minor: 2, major: 3, critical: 4 };
      var byStatus = { degraded_performance: "minor", partial_outage: "major", major_outage: "critical", under_maintenance: "maintenance" };
      comps.forEach(function (c) { var i = byStatus[c.status] || "none"; if (rank[i] > rank[worst]) worst = i; });
      incs.forEach(function (i) { if (rank[i.impact] > rank[worst]) worst = i.impact; });
      if (!want || !want.length) worst = s.status.indicator;
      var words = { none: "All systems operational", minor: "Some systems degraded", major: "Partial outage", critical: "Major outage",
        maintenance: "Under maintenance" };
      return { indicator: worst, description: want && want.length ? words[worst] : s.status.description, url: pageURL,
        components: comps.map(function (c) { return { id: c.id, name: c.name, status: c.status }; }), incidents: incs };
    });
  }

  function el(tag, cls, text) {
    var e = d.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  // mount renders a status line (a link to the page) into an element.
  function mount(target, opts) {
    var want = opts && opts.components;
    if (!want && target.getAttribute("data-components")) want = target.getAttribute("data-components").split(",");
    var draw = function () {
      status({ components: want }).then(function (s) {
        while (target.firstChild) target.removeChild(target.firstChild);
        if (!s) return;
        var a = el("a", "upstate-status upstate-" + s.indicator);
        a.href = s.url;
        a.setAttribute("role", "status");
        a.setAttribute("aria-live", "polite");
        var dot = el("span", "upstate-dot");
        dot.setAttribute("aria-hidden", "true");
        a.appendChild(dot);
        a.appendChild(el("span", "upstate-text", s.incidents.length ? s.incidents[0].name : s.description));
        target.appendChild(a);
      });
    };
    draw();
    if (refresh > 0) setInterval(draw, refresh);
  }

  var dismissed = {};
  // banner shows a small dismissible bar while an incident affects the components.
  function banner(opts) {
    var want = opts && opts.components, bar = null;
    var draw = function () {
      status({ components: want }).then(function (s) {
        var inc = s && s.incidents.filter(function (i) { return !dismissed[i.id]; })[0];
        if (!inc) { if (bar) { bar.remove(); bar = null; } return; }
        if (bar && bar.getAttribute("data-incident") === inc.id) return;
        if (bar) bar.remove();
        bar = el("div", "upstate-banner upstate-" + inc.impact);
        bar.setAttribute("role", "status");
        bar.setAttribute("aria-live", "polite");
        bar.setAttribute("data-incident", inc.id);
        var a = el("a", "upstate-banner-link", inc.name);
        a.href = inc.url;
        bar.appendChild(a);
        var x = el("button", "upstate-banner-close", "\u00d7");
        x.type = "button";
        x.setAttribute("aria-label", "Dismiss this status message");
        x.addEventListener("click", function () { dismissed[inc.id] = true; bar.remove(); bar = null; });
        bar.appendChild(x);
        d.body.insertBefore(bar, d.body.firstChild);
      });
    };
    draw();
    if (refresh > 0) setInterval(draw, refresh);
  }

  function refreshNow() { cachedAt = 0; }

  // The loader's stub becomes the real thing: its queued calls are answered,
  // later ones through it run at once.
  var U = w.Upstate = Object.assign(w.Upstate || {}, { status: status, mount: mount, banner: banner, refresh: refreshNow });
  var q = U.q || [], run = function (c) { status(c[0]).then(c[1]); };
  q.splice(0).forEach(run);
  q.push = run;
  var start = function () {
    var nodes = d.querySelectorAll("[data-upstate-status]");
    for (var i = 0; i < nodes.length; i++) mount(nodes[i]);
    var b = attr("banner", null);
    if (b !== null) banner({ components: b ? b.split(",") : [] });
  };
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", start); else start();
})(window, document);
