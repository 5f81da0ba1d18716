// Package web is Upstate's HTTP layer: routing, middleware, error mapping,
// and serving the public documents pre-rendered from each snapshot. It
// reads snapshots and calls the domain; it never touches the database.
package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/auth"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/markdown"
	"github.com/upstatehq/upstate/internal/metrics"
	"github.com/upstatehq/upstate/internal/snapshot"
	"github.com/upstatehq/upstate/internal/web/embed"
	"github.com/upstatehq/upstate/internal/web/public"
	"github.com/upstatehq/upstate/internal/web/respond"
	"github.com/upstatehq/upstate/internal/web/statusapi"
)

// Heartbeats records heartbeat pings.
type Heartbeats interface {
	// Heartbeat records a ping of the check; token is what the caller
	// presented (empty if none). It returns ENOTFOUND for an unknown
	// check and EUNAUTHORIZED for a wrong token, and only returns nil once
	// the ping is durable.
	Heartbeat(ctx context.Context, checkID, token string) (time.Time, error)
}

// Alerts receives Alertmanager and Grafana alert webhooks, once the
// server has authenticated them (see Inbound).
type Alerts interface {
	// ReceiveAlerts applies the alerts in body to the alert checks they
	// match; EINVALID for a body that is not a webhook.
	ReceiveAlerts(ctx context.Context, body []byte) (check.Receipt, error)
}

// Options configure a Server.
type Options struct {
	Logger     *slog.Logger
	Metrics    *metrics.Metrics
	Heartbeats Heartbeats
	// Alerts, when set, receives alert webhooks at /api/v1/alerts,
	// authenticated by what Inbound returns (it follows reloads).
	Alerts  Alerts
	Inbound func() Inbound
	// Now is the clock signed webhooks' timestamps are judged by.
	Now func() time.Time
	// Healthy reports whether the process can do its work (the store
	// answers); /healthz shows it.
	Healthy func(ctx context.Context) error
	// Role, when set and not nil, is the instance's part in a cluster
	// (its name, leader or member, how many checks it runs), shown by
	// /healthz.
	Role func() any
	// Markdown renders update bodies on the page and in the feeds.
	Markdown *markdown.Renderer
	// Admin, when set, adds the authenticated admin routes (API and UI).
	Admin []interface{ Register(*http.ServeMux) }
	// Proxies, when set, returns the reverse proxies whose forwarding
	// header says who the client is (server.trusted_proxies and
	// server.forwarded_header).
	Proxies func() Proxies
}

// Server serves Upstate's HTTP API and pages.
type Server struct {
	opts    Options
	mux     *http.ServeMux
	page    *public.Renderer
	md      *markdown.Renderer
	assets  atomic.Pointer[assetSet]
	handler http.Handler
	// assetRoutes are the mux's patterns that serveAsset answers; a
	// published document under one of them is answered by the middleware
	// at once, without routing twice (see middleware).
	assetRoutes map[string]bool

	ids       *requestIDs
	replays   *auth.Replays // signed alert webhooks seen
	publishMu sync.Mutex    // serialises Publish
	gz        *gzip.Writer  // reused across documents; guarded by publishMu
	// pageMu serialises rendering the pages rendered when first asked for
	// (componentPage), apart from Publish: an outsider asking never holds
	// up a snapshot's publishing. pageGz is theirs as gz is Publish's.
	pageMu sync.Mutex
	pageGz *gzip.Writer
}

// asset is one pre-rendered document, with its header values built once.
type asset struct {
	contentType []string
	body        []byte
	bodyLen     []string
	gz          []byte // nil when compression does not pay
	gzLen       []string
	etag        string
	etagHdr     []string
	public      bool     // API, feeds, badges and the widget: CORS
	cache       []string // the Cache-Control value
	// route is the mux's pattern for the document's path when serveAsset
	// answers it there (the metrics' route label), else "".
	route string
}

type assetSet struct {
	version uint64
	byPath  map[string]*asset
	// snap is what the set was rendered from, and comps its components
	// by id, for the pages rendered when first asked for (componentPage);
	// those are kept in later, at most one a component.
	snap  *snapshot.Snapshot
	comps map[string]*snapshot.Component
	mu    sync.Mutex
	later map[string]*asset
}

// New builds the server; templates are parsed here, so a broken one fails start-up.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		return nil, errors.New("web: Options.Metrics is required")
	}
	if opts.Heartbeats == nil {
		return nil, errors.New("web: Options.Heartbeats is required")
	}
	if opts.Alerts != nil && opts.Inbound == nil {
		return nil, errors.New("web: Options.Inbound is required with Alerts")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	md := opts.Markdown
	if md == nil {
		md = markdown.New()
	}
	page, err := public.New(md.HTML)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), page: page, md: md, ids: newRequestIDs(), replays: auth.NewReplays(SignatureWindow),
		assetRoutes: map[string]bool{}}
	s.routes()
	s.handler = s.middleware(s.mux)
	return s, nil
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() {
	m := s.mux
	asset := func(pattern string) {
		m.HandleFunc(pattern, s.serveAsset)
		s.assetRoutes[pattern] = true
	}
	asset("GET /{$}")
	asset("GET /incidents/{id}")
	m.HandleFunc("GET /components/{id}", s.componentPage)
	for _, p := range []string{"GET /badges/", "GET /embed", "GET /widget.js", "GET /widget.css", "GET /favicon.ico", "GET /favicon.svg", "GET /logo", "GET /theme.css"} {
		asset(p)
	}
	for _, p := range []string{statusapi.PathSummary, statusapi.PathStatus, statusapi.PathComponents, statusapi.PathIncidents,
		statusapi.PathUnresolved, statusapi.PathMaintenances, statusapi.PathUpcoming, statusapi.PathActive, statusapi.PathAtom, statusapi.PathRSS} {
		asset("GET " + p)
		m.HandleFunc("OPTIONS "+p, s.preflight)
	}
	static, _ := fs.Sub(public.Static, "static")
	m.HandleFunc("GET /static/{name}", func(w http.ResponseWriter, r *http.Request) {
		// Only the files themselves: no listings, and a name that is not
		// a valid file name is simply not there.
		name := r.PathValue("name")
		if st, err := fs.Stat(static, name); !fs.ValidPath(name) || err != nil || st.IsDir() {
			s.notFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.ServeFileFS(w, r, static, name)
	})
	m.Handle("GET /metrics", s.opts.Metrics.Handler())
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /readyz", s.healthz)
	m.HandleFunc("GET /livez", s.livez)
	m.HandleFunc("POST /api/v1/heartbeats/{id}", s.heartbeat)
	if s.opts.Alerts != nil {
		// One endpoint takes both formats; the named ones are for configs
		// that say which they send.
		for _, p := range []string{"/api/v1/alerts", "/api/v1/alerts/alertmanager", "/api/v1/alerts/grafana"} {
			m.HandleFunc("POST "+p, s.alerts)
		}
	}
	for _, a := range s.opts.Admin {
		a.Register(m)
	}
}

// Publish renders every public document of the snapshot once; requests
// then only copy bytes. It is the snapshot holder's Published hook.
func (s *Server) Publish(snap *snapshot.Snapshot) error {
	// The wall clock, not an injected one: this measures how long the
	// rendering took (a metric), not what time it is on the page.
	start := time.Now()
	docs, err := statusapi.Render(snap, s.md.HTML)
	if err != nil {
		return err
	}
	pages, err := s.page.Render(snap)
	if err != nil {
		return err
	}
	embeds, err := embed.Render(snap)
	if err != nil {
		return err
	}
	pages = append(pages, embeds...)
	pages = append(pages, embed.Doc{Path: "/widget.js", ContentType: "text/javascript; charset=utf-8", Body: []byte(embed.Widget)},
		embed.Doc{Path: "/widget.css", ContentType: "text/css; charset=utf-8", Body: []byte(embed.WidgetCSS)})
	s.publishMu.Lock()
	defer s.publishMu.Unlock()
	prev := s.assets.Load()
	set := &assetSet{version: snap.Version, byPath: make(map[string]*asset, len(docs)+len(pages)),
		snap: snap, comps: make(map[string]*snapshot.Component, len(snap.Components)), later: map[string]*asset{}}
	for _, c := range snap.Components {
		set.comps[c.ID] = c
	}
	for _, d := range append(docs, pages...) {
		etag := etagOf(d.Body)
		// Most documents do not change between snapshots (resolved
		// incidents, feeds between updates): keep their compressed bytes.
		if prev != nil {
			if old := prev.byPath[d.Path]; old != nil && old.etag == etag && old.contentType[0] == d.ContentType {
				set.byPath[d.Path] = old
				continue
			}
		}
		set.byPath[d.Path] = s.newAsset(&s.gz, d.Path, d.ContentType, d.Body, etag)
	}
	s.assets.Store(set)
	s.opts.Metrics.SnapshotRebuilds.Inc()
	s.opts.Metrics.SnapshotSeconds.Observe(time.Since(start).Seconds())
	s.opts.Metrics.IncidentsOpen.Set(float64(len(snap.Open)))
	return nil
}

func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// newAsset compresses a document once, with the gzip writer at gz (made
// there when nil): Publish's (s.gz, with s.publishMu held) or the later
// pages' (s.pageGz, with s.pageMu held).
func (s *Server) newAsset(gz **gzip.Writer, path, ct string, body []byte, etag string) *asset {
	a := &asset{contentType: []string{ct}, body: body, etag: etag, etagHdr: []string{etag},
		bodyLen: []string{strconv.Itoa(len(body))}, cache: hdrPageCache, route: s.assetRoute(path)}
	switch {
	case strings.HasPrefix(path, "/widget."):
		// Apps include the widget on every page: cache it a day, and let
		// browsers revalidate it in the background for a week after.
		a.public, a.cache = true, hdrWidgetCache
	case strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/history.") || strings.HasPrefix(path, "/badges/"):
		a.public, a.cache = true, hdrAPICache
	}
	var b bytes.Buffer
	if *gz == nil {
		*gz, _ = gzip.NewWriterLevel(&b, gzip.BestCompression)
	} else {
		(*gz).Reset(&b)
	}
	_, _ = (*gz).Write(body)
	_ = (*gz).Close()
	if b.Len() < len(body) {
		a.gz = b.Bytes()
		a.gzLen = []string{strconv.Itoa(b.Len())}
	}
	return a
}

// assetRoute is the mux's pattern for a GET of path when serveAsset
// answers it there, else "" (the mux would answer otherwise: the request
// goes through it).
func (s *Server) assetRoute(path string) string {
	_, pattern := s.mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: path}, Host: "localhost"})
	if !s.assetRoutes[pattern] {
		return ""
	}
	return pattern
}

// Header values shared by every response; net/http only reads them.
var (
	hdrVary        = []string{"Accept-Encoding"}
	hdrCORS        = []string{"*"}
	hdrAPICache    = []string{"public, max-age=30"}
	hdrPageCache   = []string{"public, max-age=15"}
	hdrWidgetCache = []string{"public, max-age=86400, stale-while-revalidate=604800"}
	hdrGzip        = []string{"gzip"}
	hdrNosniff     = []string{"nosniff"}
	hdrReferrer    = []string{"strict-origin-when-cross-origin"}
	// Pages may not be framed by other sites (clickjacking), except /embed,
	// which exists to be.
	hdrCSP = []string{"default-src 'self'; style-src 'self'; img-src 'self' data:; script-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"}
	// The admin pages may run the admin's own static scripts (the live
	// console's /admin/console.js): never inline ones, never another
	// site's.
	hdrAdminCSP = []string{"default-src 'self'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"}
	hdrEmbedCSP = []string{"default-src 'self'; style-src 'self'; img-src 'self' data:; script-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors *"}
)

// errNotReady answers a public read before the first snapshot.
var errNotReady = upstate.Errorf(upstate.EUNAVAILABLE, "starting up: the status page is not ready yet")

// serveAsset answers a public read through the mux: the middleware
// answers the published ones before routing (writeAsset), so this is for
// what is not published, or not yet.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	set := s.assets.Load()
	if set == nil {
		writeError(w, r, errNotReady)
		return
	}
	a := set.byPath[r.URL.Path]
	if a == nil {
		s.notFound(w, r)
		return
	}
	writeAsset(w, r, a)
}

// componentPage answers a component's page (/components/{id}, which its
// bars on the page link to), rendered from the published snapshot the
// first time it is asked for and kept with it: rendering a page for each
// of 1,000 components on every snapshot would be most of publishing, and
// most are never read. Only the snapshot's components have one, so what
// is kept is bounded by them.
func (s *Server) componentPage(w http.ResponseWriter, r *http.Request) {
	set := s.assets.Load()
	if set == nil {
		writeError(w, r, errNotReady)
		return
	}
	c := set.comps[r.PathValue("id")]
	if c == nil {
		s.notFound(w, r)
		return
	}
	set.mu.Lock()
	a := set.later[c.ID]
	set.mu.Unlock()
	if a == nil {
		doc, err := s.page.RenderComponent(set.snap, c)
		if err != nil {
			writeError(w, r, err)
			return
		}
		s.pageMu.Lock()
		a = s.newAsset(&s.pageGz, doc.Path, doc.ContentType, doc.Body, etagOf(doc.Body))
		s.pageMu.Unlock()
		set.mu.Lock()
		if kept := set.later[c.ID]; kept != nil {
			a = kept // another request rendered it meanwhile: one answer for all
		} else {
			set.later[c.ID] = a
		}
		set.mu.Unlock()
	}
	writeAsset(w, r, a)
}

// writeAsset is the hot path: every public read lands here and only
// copies pre-rendered bytes, with no allocation beyond net/http's own. It
// returns the status it answered.
func writeAsset(w http.ResponseWriter, r *http.Request, a *asset) int {
	h := w.Header()
	h["Content-Type"] = a.contentType
	h["Etag"] = a.etagHdr
	h["Vary"] = hdrVary
	if a.public {
		h["Access-Control-Allow-Origin"] = hdrCORS
	}
	h["Cache-Control"] = a.cache
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	body, length := a.body, a.bodyLen
	if a.gz != nil && acceptsGzip(r) {
		h["Content-Encoding"] = hdrGzip
		body, length = a.gz, a.gzLen
	}
	h["Content-Length"] = length
	if r.Method == http.MethodHead {
		return http.StatusOK
	}
	_, _ = w.Write(body)
	return http.StatusOK
}

func etagMatches(header, etag string) bool {
	for rest := header; rest != ""; {
		var t string
		t, rest, _ = strings.Cut(rest, ",")
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// acceptsGzip reads Accept-Encoding without allocating (it is on every
// public read).
func acceptsGzip(r *http.Request) bool {
	for rest := r.Header.Get("Accept-Encoding"); rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			return !strings.Contains(strings.ReplaceAll(q, " ", ""), "q=0") || strings.Contains(q, "q=0.")
		}
	}
	return false
}

func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "If-None-Match, Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// livez answers 200 while the process serves: liveness, for a supervisor
// deciding whether to restart it (a restart cures neither a full disk nor
// a held lock, which /healthz and /readyz report).
func (s *Server) livez(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

// healthz answers 200 when Upstate can do its work: a snapshot is
// published and the store reads and accepts writes; 503 with the reason
// (and Retry-After) when it cannot. /readyz is the same.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	status := map[string]any{"status": "ok"}
	code := http.StatusOK
	if set := s.assets.Load(); set != nil {
		status["snapshot_version"] = set.version
	} else {
		status["status"], code = "starting", http.StatusServiceUnavailable
	}
	if s.opts.Healthy != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.opts.Healthy(ctx); err != nil {
			msg := upstate.ErrorMessage(err)
			if upstate.ErrorCode(err) == upstate.EINTERNAL {
				msg = err.Error()
			}
			status["status"], status["error"], code = "unhealthy", msg, http.StatusServiceUnavailable
			respond.SetRetryAfter(w, err)
		}
	}
	if s.opts.Role != nil {
		if role := s.opts.Role(); role != nil {
			status["cluster"] = role
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, code, status)
}

func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request) {
	token := ""
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, t, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			writeError(w, r, upstate.Errorf(upstate.EUNAUTHORIZED, "Authorization must be \"Bearer <token>\""))
			return
		}
		token = strings.TrimSpace(t)
	} else if t := r.URL.Query().Get("token"); t != "" {
		token = t
	}
	id := r.PathValue("id")
	at, err := s.opts.Heartbeats.Heartbeat(r.Context(), id, token)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"check": id, "received_at": at.UTC().Format(time.RFC3339Nano)})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, upstate.Errorf(upstate.ENOTFOUND, "nothing at %s", r.URL.Path))
}

// RequestID returns the id of the request being answered on w.
func RequestID(w http.ResponseWriter) string { return respond.RequestID(w) }

// requestIDs makes request ids: a random prefix per process and a counter,
// unique without a system call per request.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &requestIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (g *requestIDs) next() []string {
	var b [32]byte
	return []string{string(strconv.AppendUint(append(b[:0], g.prefix...), g.n.Add(1), 36))}
}

func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The wall clock, not an injected one: request latency is elapsed
		// real time (a fake clock would say 0, the demo's a minute a second).
		start := time.Now()
		h := w.Header()
		h["X-Request-Id"] = s.ids.next()
		h["X-Content-Type-Options"] = hdrNosniff
		h["Referrer-Policy"] = hdrReferrer
		h["Content-Security-Policy"] = hdrCSP
		if r.URL.Path == "/embed" {
			h["Content-Security-Policy"] = hdrEmbedCSP
		} else if strings.HasPrefix(r.URL.Path, "/admin/") {
			h["Content-Security-Policy"] = hdrAdminCSP
		}
		get := r.Method == http.MethodGet || r.Method == http.MethodHead
		if get && (r.Body == nil || r.Body == http.NoBody) {
			// A published document: answered at once, without a
			// status writer or routing twice (the bulk of all requests).
			if set := s.assets.Load(); set != nil {
				if a := set.byPath[r.URL.Path]; a != nil && a.route != "" {
					s.opts.Metrics.ObserveHTTP(a.route, writeAsset(w, r, a), time.Since(start))
					return
				}
			}
		}
		sw := &respond.StatusWriter{ResponseWriter: w}
		if !get && s.opts.Proxies != nil {
			// Sign-ins are throttled by the client's address: work it out
			// once, trusting a forwarding header only from trusted proxies.
			r = respond.WithClientAddr(r, clientAddr(r, s.opts.Proxies()))
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.opts.Logger.Error("handler panicked", "component", "web", "request_id", RequestID(w), "path", r.URL.Path, "panic", p)
				if sw.Code == 0 {
					writeError(sw, r, errors.New("panic"))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			s.opts.Metrics.ObserveHTTP(route, sw.Code, time.Since(start))
		}()
		if r.Body != nil && r.Body != http.NoBody {
			if code, err := limitBody(sw, r); err != nil {
				writeError(sw, r, err, code)
				return
			}
		}
		if _, pattern := s.mux.Handler(r); pattern == "" {
			// No route: let the mux decide between 404 and 405 (with its
			// Allow header), but answer in our JSON error shape.
			next.ServeHTTP(&routeError{ResponseWriter: sw, r: r}, r)
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// Request bodies are bounded on every route: alert and metric pushes may
// be large, forms that anyone may post (sign-in, subscriptions, links
// from messages) are small, and everything else is JSON of at most
// respond.MaxBody. No route takes multipart bodies (net/http would spool
// them to disk).
var bodyLimits = []struct {
	prefix string
	limit  int64
}{
	{"/api/v1/alerts", 4 << 20}, {"/api/v1/metrics", 4 << 20},
	{"/admin/login", 16 << 10}, {"/subscribe", 16 << 10}, {"/unsubscribe", 16 << 10}, {"/ack/", 16 << 10},
}

// limitBody refuses a multipart body (415) or one declared too large
// (413), and caps what the handler can read of the rest: reading past the
// cap fails, and Decode says so.
func limitBody(w http.ResponseWriter, r *http.Request) (int, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); strings.HasPrefix(mt, "multipart/") {
		return http.StatusUnsupportedMediaType, upstate.Errorf(upstate.EINVALID, "multipart bodies are not accepted: send application/x-www-form-urlencoded or JSON")
	}
	limit := int64(respond.MaxBody)
	for _, l := range bodyLimits {
		if strings.HasPrefix(r.URL.Path, l.prefix) {
			limit = l.limit
			break
		}
	}
	if r.ContentLength > limit {
		return http.StatusRequestEntityTooLarge, upstate.Errorf(upstate.EINVALID, "the body is %d bytes: this route takes at most %d", r.ContentLength, limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return 0, nil
}

// routeError turns the mux's plain-text 404 and 405 into JSON errors.
type routeError struct {
	http.ResponseWriter
	r       *http.Request
	written bool
}

func (e *routeError) WriteHeader(code int) {
	if e.written {
		return
	}
	e.written = true
	e.ResponseWriter.Header().Del("Content-Length")
	switch code {
	case http.StatusMethodNotAllowed:
		writeError(e.ResponseWriter, e.r, upstate.Errorf(upstate.EINVALID, "%s is not allowed on %s (allowed: %s)", e.r.Method, e.r.URL.Path, e.ResponseWriter.Header().Get("Allow")), http.StatusMethodNotAllowed)
	default:
		writeError(e.ResponseWriter, e.r, upstate.Errorf(upstate.ENOTFOUND, "nothing at %s", e.r.URL.Path))
	}
}

func (e *routeError) Write(b []byte) (int, error) {
	if !e.written {
		e.WriteHeader(http.StatusOK)
	}
	return len(b), nil
}

func writeError(w http.ResponseWriter, _ *http.Request, err error, status ...int) {
	respond.Error(w, err, status...)
}

func writeJSON(w http.ResponseWriter, code int, v any) { respond.JSON(w, code, v) }

// fail answers with the error, logging it first when it is internal (the
// user only sees "internal error" and the request id to quote).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if upstate.ErrorCode(err) == upstate.EINTERNAL {
		s.opts.Logger.Error("request failed", "component", "web", "request_id", RequestID(w), "path", r.URL.Path, "err", err)
	}
	writeError(w, r, err)
}
