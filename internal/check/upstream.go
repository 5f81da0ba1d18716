package check

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// The upstream feed formats.
const (
	FeedStatuspage      = "statuspage"       // any Statuspage page: /api/v2/summary.json
	FeedGoogleWorkspace = "google-workspace" // www.google.com/appsstatus/dashboard/incidents.json
	FeedGoogleCloud     = "google-cloud"     // status.cloud.google.com/incidents.json
	FeedRSS             = "feed"             // RSS 2.0 or Atom 1.0
)

// feedFormat is one kind of feed an upstream check reads.
type feedFormat struct {
	Name   string // as configured: feed: rss
	Format string // what the reader parses (FeedRSS for rss)
	// URL is the feed of a provider that has one place ("" when the
	// check must give its url); Base makes its relative incident links
	// absolute; Provider is its name for people.
	URL, Base, Provider string
}

// feedFormats is the one table of the feeds an upstream check reads, in
// the order the configuration's messages name them.
func feedFormats() []feedFormat {
	return []feedFormat{
		{Name: "statuspage", Format: FeedStatuspage},
		{Name: "google-workspace", Format: FeedGoogleWorkspace, URL: "https://www.google.com/appsstatus/dashboard/incidents.json",
			Base: "https://www.google.com/appsstatus/dashboard/", Provider: "Google Workspace"},
		{Name: "google-cloud", Format: FeedGoogleCloud, URL: "https://status.cloud.google.com/incidents.json",
			Base: "https://status.cloud.google.com/", Provider: "Google Cloud"},
		{Name: "rss", Format: FeedRSS},
	}
}

// feedNamed is the feed configured as name, or the zero feedFormat.
func feedNamed(name string) feedFormat {
	for _, f := range feedFormats() {
		if f.Name == name {
			return f
		}
	}
	return feedFormat{}
}

func feedNames() []string {
	var names []string
	for _, f := range feedFormats() {
		names = append(names, f.Name)
	}
	return names
}

// upstreamKind reads a provider's public status page or feed.
func upstreamKind() Kind {
	return Kind{Name: "upstream", New: func() Section { return &UpstreamSection{} }, Told: true}
}

// UpstreamSection is an upstream check's configuration: a provider's
// status (url defaults for the providers that have one place), the
// products or components of theirs to watch, and what to call them.
type UpstreamSection struct {
	Feed     string        `yaml:"feed"`
	URL      string        `yaml:"url"`
	Provider string        `yaml:"provider"`
	Products []string      `yaml:"products"`
	Window   time.Duration `yaml:"window"` // rss: how long an item counts as news
}

// Validate implements Section.
func (s *UpstreamSection) Validate(v Validator, c *Common) {
	f := feedNamed(s.Feed)
	if f.Name == "" {
		if s.Feed == "" {
			v.Errorf("", "feed is required for upstream checks (one of %s)", strings.Join(feedNames(), ", "))
		} else {
			v.Errorf("feed", "unknown feed %q (one of %s)", s.Feed, strings.Join(feedNames(), ", "))
		}
		return
	}
	if s.URL == "" {
		s.URL = f.URL
	}
	if s.URL == "" {
		v.Errorf("", "url is required for %s feeds (e.g. https://status.example.com/api/v2/summary.json)", s.Feed)
	} else if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.Errorf("url", "%q is not an http(s) URL", s.URL)
	} else if s.Provider == "" {
		s.Provider = f.Provider
		if s.Provider == "" {
			s.Provider = u.Host
		}
	}
	if c.Interval == 0 {
		c.Interval = 2 * time.Minute // providers ask for polite polling
	}
	if c.Interval < 30*time.Second {
		v.Errorf("interval", "%s is too often for a provider's status: at least 30s", c.Interval)
	}
	if s.Window == 0 {
		s.Window = 6 * time.Hour
	}
	if c.FailAfter == 0 {
		c.FailAfter = 1 // the provider has confirmed it
	}
	if c.RecoverAfter == 0 {
		c.RecoverAfter = 1
	}
	if c.Recheck == nil {
		c.Recheck = &Recheck{}
	}
}

// Prober implements Section.
func (s *UpstreamSection) Prober(c Common, env Env) (Prober, error) {
	f := feedNamed(s.Feed)
	// Incident links are relative to the dashboard the feed belongs to.
	base := f.Base
	if b, ok := strings.CutSuffix(s.URL, "incidents.json"); ok {
		base = b
	}
	return &Upstream{ID: c.ID, Provider: s.Provider, Format: f.Format, URL: s.URL, Base: base, Products: s.Products,
		Window: s.Window, Interval: c.Interval, Timeout: c.Timeout, Client: env.Client, Clock: env.Clock,
		OnError: func(err error) { env.FeedError(c.ID, err) }}, nil
}

// ProviderIncident is an incident a provider reports, in our words.
type ProviderIncident struct {
	ID       string
	Title    string
	Severity upstate.State // StateDown for an outage, StateDegraded for a disruption
	// Partial marks a StateDegraded incident that is the provider's
	// partial outage of the watched products, not a degradation.
	Partial  bool
	Impact   string // the provider's own word for it
	URL      string // their incident page: an absolute http(s) URL, or empty
	Started  time.Time
	Products []string // the affected products or components, by name
	// Ended is set on an incident the provider has closed (resolved,
	// given an end); ParseFeed returns only open ones.
	Ended   bool
	Updates []ProviderUpdate // oldest first
}

// ProviderUpdate is one update a provider posted on an incident.
type ProviderUpdate struct {
	// Key is the update's identity across reads (see updateKey).
	Key    string
	At     time.Time
	Status string // the provider's word: "resolved", "SERVICE_OUTAGE"
	Text   string
}

// updateKey is an update's identity across reads: the provider's own id
// where the feed has one (Statuspage), else a hash of the incident id and
// the update's status and text, with case and spacing folded. Never its
// time: a feed that rewrote its update times on every read made a new
// mirrored entry per update per poll (603 in a minute).
func updateKey(incident, id, status, text string) string {
	if id = strings.TrimSpace(id); id != "" {
		return "id:" + id
	}
	norm := strings.ToLower(strings.Join(strings.Fields(text), " "))
	h := sha256.Sum256([]byte(incident + "\x00" + strings.ToLower(strings.TrimSpace(status)) + "\x00" + norm))
	return "text:" + hex.EncodeToString(h[:12])
}

// httpLink returns s when it is an absolute http or https URL, else "".
// Feeds are other people's content, and their links end up in our pages,
// API and notifications: a javascript: shortlink must not.
func httpLink(s string) string {
	if s = strings.TrimSpace(s); upstate.IsHTTPURL(s) {
		return s
	}
	return ""
}

// componentPrefix marks the incidents we make for a Statuspage component
// in trouble without one of theirs: the provider has no record of them.
const componentPrefix = "component-"

// maxFeed bounds what is read of a feed.
const maxFeed = 5 << 20

// ParseFeed reads a provider's status in one format and returns its
// active incidents that affect the watched products (any when watched is
// empty), matching products by id or name without case. base makes
// relative incident links absolute; now and window judge RSS items.
func ParseFeed(format string, body []byte, watched []string, base string, now time.Time, window time.Duration) ([]ProviderIncident, error) {
	all, err := parseFeed(format, body, watched, base, now, window)
	return slices.DeleteFunc(all, func(in ProviderIncident) bool { return in.Ended }), err
}

// parseFeed is ParseFeed with the ended incidents the feed still lists
// (Ended set): their last updates are the provider's closing words.
func parseFeed(format string, body []byte, watched []string, base string, now time.Time, window time.Duration) ([]ProviderIncident, error) {
	wants := func(ids ...string) bool {
		if len(watched) == 0 {
			return true
		}
		for _, id := range ids {
			for _, w := range watched {
				if id != "" && strings.EqualFold(strings.TrimSpace(id), strings.TrimSpace(w)) {
					return true
				}
			}
		}
		return false
	}
	switch format {
	case FeedStatuspage:
		return parseStatuspage(body, wants)
	case FeedGoogleWorkspace, FeedGoogleCloud:
		return parseGoogle(body, wants, base)
	case FeedRSS:
		return parseRSS(body, wants, now, window)
	}
	return nil, fmt.Errorf("unknown feed format %q", format)
}

// spIncident is an incident as Statuspage's API v2 writes it, in
// summary.json and incidents.json alike.
type spIncident struct {
	ID, Name, Status, Impact, Shortlink string
	StartedAt                           time.Time `json:"started_at"`
	CreatedAt                           time.Time `json:"created_at"`
	Updates                             []struct {
		ID, Status, Body string
		CreatedAt        time.Time `json:"created_at"`
	} `json:"incident_updates"` // newest first
	Components []struct{ ID, Name, Status string } `json:"components"`
}

// ourStatus is a provider's incident status in our words: Statuspage's
// are ours; "" for what has none here (Google's impacts, maintenance
// words, an RSS item's "Update").
func ourStatus(s string) upstate.IncidentStatus {
	switch st := upstate.IncidentStatus(strings.ToLower(strings.TrimSpace(s))); st {
	case upstate.Investigating, upstate.Identified, upstate.Monitoring, upstate.Resolved, upstate.Postmortem:
		return st
	}
	return ""
}

// severity is what a component status of theirs is for the check: their
// major outage fails it, their partial outage is a partial outage, the
// rest degrades it.
func (pi *ProviderIncident) severity(st upstate.Status) {
	pi.Severity, pi.Partial = upstate.StateDegraded, st == upstate.PartialOutage
	if st == upstate.MajorOutage {
		pi.Severity, pi.Partial = upstate.StateDown, false
	}
}

// ours turns a Statuspage incident into a ProviderIncident; pageURL
// makes its link when the shortlink is missing or not http(s).
func (in spIncident) ours(pageURL string) ProviderIncident {
	pi := ProviderIncident{ID: in.ID, Title: in.Name, Impact: in.Impact, URL: httpLink(in.Shortlink), Started: in.StartedAt, Severity: upstate.StateDegraded,
		Ended: in.Status == "resolved" || in.Status == "postmortem" || in.Status == "completed"}
	for _, c := range in.Components {
		pi.Products = append(pi.Products, c.Name)
	}
	if pi.Started.IsZero() {
		pi.Started = in.CreatedAt
	}
	// Statuspage's impacts say it in component statuses' words: critical
	// is a major outage, major a partial one, minor a degradation. The
	// statuses of the watched components, where known, say it better.
	switch in.Impact {
	case "critical":
		pi.severity(upstate.MajorOutage)
	case "major":
		pi.severity(upstate.PartialOutage)
	}
	if pi.URL == "" && httpLink(pageURL) != "" {
		pi.URL = httpLink(strings.TrimRight(strings.TrimSpace(pageURL), "/") + "/incidents/" + url.PathEscape(in.ID))
	}
	for i := len(in.Updates) - 1; i >= 0; i-- { // oldest first
		x := in.Updates[i]
		text := strings.TrimSpace(x.Body)
		pi.Updates = append(pi.Updates, ProviderUpdate{Key: updateKey(in.ID, x.ID, x.Status, text), At: x.CreatedAt, Status: x.Status, Text: text})
	}
	return pi
}

func parseStatuspage(body []byte, wants func(...string) bool) ([]ProviderIncident, error) {
	var doc struct {
		Page       *struct{ URL string } `json:"page"`
		Components []struct {
			ID, Name, Status string
			GroupID          *string `json:"group_id"`
		} `json:"components"`
		Incidents []spIncident `json:"incidents"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("not a Statuspage summary.json: %v", jsonWhere(body, err))
	}
	if doc.Page == nil || doc.Components == nil {
		return nil, errors.New("not a Statuspage summary.json: no page or components")
	}
	var out []ProviderIncident
	seen := map[string]bool{}
	for _, in := range doc.Incidents {
		var ids []string
		for _, c := range in.Components {
			ids = append(ids, c.ID, c.Name)
		}
		if !wants(ids...) && !(len(in.Components) == 0 && wants()) {
			continue
		}
		pi := in.ours(doc.Page.URL)
		// Their incident's components, as the page shows them now: the
		// worst of the watched ones is what the incident does to us.
		worst := upstate.Operational
		for _, c := range in.Components {
			st := upstate.Status(c.Status)
			for _, top := range doc.Components {
				if st == "" && top.ID == c.ID {
					st = upstate.Status(top.Status)
				}
			}
			if wants(c.ID, c.Name) {
				worst = upstate.Worse(worst, st)
			}
		}
		if worst.Severity() > 0 {
			pi.severity(worst)
		}
		if !pi.Ended {
			for _, n := range pi.Products {
				seen[n] = true
			}
		}
		out = append(out, pi)
	}
	// A component in trouble without an incident still counts.
	for _, c := range doc.Components {
		st := upstate.Status(c.Status)
		if st.Severity() == 0 || !wants(c.ID, c.Name) || seen[c.Name] {
			continue
		}
		pi := ProviderIncident{ID: componentPrefix + c.ID, Title: c.Name + ": " + strings.ToLower(st.Label()), Impact: c.Status, Products: []string{c.Name},
			URL: httpLink(doc.Page.URL)}
		pi.severity(st)
		out = append(out, pi)
	}
	return out, nil
}

// parseStatuspageIncidents reads Statuspage's incidents.json (the 50
// most recent incidents, resolved ones included), by incident id.
func parseStatuspageIncidents(body []byte) (map[string]ProviderIncident, error) {
	var doc struct {
		Page      *struct{ URL string } `json:"page"`
		Incidents []spIncident          `json:"incidents"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("not a Statuspage incidents.json: %v", jsonWhere(body, err))
	}
	if doc.Page == nil || doc.Incidents == nil {
		return nil, errors.New("not a Statuspage incidents.json: no page or incidents")
	}
	out := map[string]ProviderIncident{}
	for _, in := range doc.Incidents {
		out[in.ID] = in.ours(doc.Page.URL)
	}
	return out, nil
}

func parseGoogle(body []byte, wants func(...string) bool, base string) ([]ProviderIncident, error) {
	type update struct {
		When   time.Time `json:"when"`
		Status string    `json:"status"`
		Text   string    `json:"text"`
	}
	var doc []struct {
		ID, Number, Severity string
		ExternalDesc         string                       `json:"external_desc"`
		StatusImpact         string                       `json:"status_impact"`
		Begin                time.Time                    `json:"begin"`
		End                  *string                      `json:"end"`
		ServiceName          string                       `json:"service_name"`
		ServiceKey           string                       `json:"service_key"`
		URI                  string                       `json:"uri"`
		Products             []struct{ Title, ID string } `json:"affected_products"`
		Updates              []update                     `json:"updates"`
		Recent               *update                      `json:"most_recent_update"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("not a Google status incidents.json: %v", jsonWhere(body, err))
	}
	var out []ProviderIncident
	for _, in := range doc {
		ids := []string{in.ServiceName, in.ServiceKey}
		var names []string
		for _, p := range in.Products {
			ids = append(ids, p.ID, p.Title)
			names = append(names, p.Title)
		}
		if len(names) == 0 && in.ServiceName != "" {
			names = []string{in.ServiceName}
		}
		if !wants(ids...) {
			continue
		}
		// An incident stays in the list once it ends, with end set and its
		// final (AVAILABLE) update: missing, null and "" all mean open.
		pi := ProviderIncident{ID: in.ID, Title: firstLine(stripTags(in.ExternalDesc)), Impact: in.StatusImpact, Started: in.Begin, Products: names,
			Severity: upstate.StateDegraded, Ended: in.End != nil && *in.End != ""}
		switch {
		case in.StatusImpact == "SERVICE_INFORMATION":
			continue // news, not a disruption
		case in.StatusImpact == "SERVICE_OUTAGE" || in.Severity == "high":
			pi.Severity = upstate.StateDown
		}
		if in.URI != "" {
			pi.URL = httpLink(base + strings.TrimLeft(in.URI, "/"))
		}
		ups := in.Updates
		if len(ups) == 0 && in.Recent != nil {
			ups = []update{*in.Recent}
		}
		slices.SortStableFunc(ups, func(a, b update) int { return a.When.Compare(b.When) })
		for _, u := range ups {
			text := strings.TrimSpace(u.Text)
			pi.Updates = append(pi.Updates, ProviderUpdate{Key: updateKey(in.ID, "", u.Status, text), At: u.When, Status: u.Status, Text: text})
		}
		out = append(out, pi)
	}
	return out, nil
}

// resolvedWords mark a feed item as the end of an incident.
var resolvedWords = []string{"resolved", "completed", "restored", "fixed", "operational", "recovered"}

func parseRSS(body []byte, wants func(...string) bool, now time.Time, window time.Duration) ([]ProviderIncident, error) {
	var doc struct {
		XMLName xml.Name
		Channel struct {
			Items []struct {
				Title       string   `xml:"title"`
				Link        string   `xml:"link"`
				Description string   `xml:"description"`
				GUID        string   `xml:"guid"`
				PubDate     string   `xml:"pubDate"`
				Category    []string `xml:"category"`
			} `xml:"item"`
		} `xml:"channel"`
		Entries []struct {
			Title   string `xml:"title"`
			ID      string `xml:"id"`
			Updated string `xml:"updated"`
			Content string `xml:"content"`
			Summary string `xml:"summary"`
			Link    []struct {
				Href string `xml:"href,attr"`
				Rel  string `xml:"rel,attr"`
			} `xml:"link"`
			Category []struct {
				Term string `xml:"term,attr"`
			} `xml:"category"`
		} `xml:"entry"`
	}
	dec := xml.NewDecoder(strings.NewReader(string(body)))
	dec.Strict = false
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not an RSS or Atom feed: %v", err)
	}
	if doc.XMLName.Local != "rss" && doc.XMLName.Local != "feed" && doc.XMLName.Local != "RDF" {
		return nil, fmt.Errorf("not an RSS or Atom feed: the document is <%s>", doc.XMLName.Local)
	}
	type item struct {
		id, title, text, link string
		at                    time.Time
		tags                  []string
	}
	var items []item
	for _, it := range doc.Channel.Items {
		at, _ := parseFeedTime(it.PubDate)
		id := it.GUID
		if id == "" {
			id = it.Link
		}
		items = append(items, item{id, it.Title, it.Description, httpLink(it.Link), at, it.Category})
	}
	for _, e := range doc.Entries {
		at, _ := parseFeedTime(e.Updated)
		link := ""
		for _, l := range e.Link {
			if (l.Rel == "" || l.Rel == "alternate") && link == "" {
				link = httpLink(l.Href)
			}
		}
		text := e.Content
		if text == "" {
			text = e.Summary
		}
		var tags []string
		for _, c := range e.Category {
			tags = append(tags, c.Term)
		}
		items = append(items, item{e.ID, e.Title, text, link, at, tags})
	}
	var out []ProviderIncident
	for _, it := range items {
		if it.at.IsZero() || now.Sub(it.at) > window {
			continue
		}
		if !wants(append([]string{it.title}, it.tags...)...) && !titleMentions(it.title, wants) {
			continue
		}
		words := strings.ToLower(it.title + " " + stripTags(it.text))
		over := false
		for _, w := range resolvedWords {
			if strings.Contains(words, w) {
				over = true
			}
		}
		text := firstLine(stripTags(it.text))
		out = append(out, ProviderIncident{ID: it.id, Title: strings.TrimSpace(stripTags(it.title)), Impact: "feed", URL: it.link, Started: it.at,
			Severity: upstate.StateDegraded, Ended: over, Updates: []ProviderUpdate{{Key: updateKey(it.id, "", "", text), At: it.at, Text: text, Status: feedStatus(it.text)}}})
	}
	return out, nil
}

// feedStatus is the incident's status in an item laid out as Statuspage
// (and Upstate) write their feeds: each update, newest first, as
// "<strong>Identified</strong> - body", "Update" when the status did
// not change. The first status word is the current one; "" when there is
// none.
func feedStatus(html string) string {
	rest := html
	for {
		_, after, ok := strings.Cut(rest, "<strong>")
		if !ok {
			return ""
		}
		word, tail, ok := strings.Cut(after, "</strong>")
		if !ok {
			return ""
		}
		if strings.HasPrefix(strings.TrimSpace(tail), "-") && ourStatus(word) != "" {
			return strings.ToLower(strings.TrimSpace(word))
		}
		rest = tail
	}
}

// titleMentions reports whether a watched product appears in the title.
func titleMentions(title string, wants func(...string) bool) bool {
	for _, w := range strings.FieldsFunc(title, func(r rune) bool {
		return r == ':' || r == '-' || r == '|' || r == '(' || r == ')' || r == '[' || r == ']'
	}) {
		if wants(w) {
			return true
		}
	}
	return false
}

func parseFeedTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, time.RFC3339, "Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 MST"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time", s)
}

// stripTags removes HTML tags, for text shown as words.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// jsonWhere says where in body a JSON error is.
func jsonWhere(body []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + strings.Count(string(body[:min(int(se.Offset), len(body))]), "\n")
		return fmt.Sprintf("%v (line %d)", err, line)
	}
	var ue *json.UnmarshalTypeError
	if errors.As(err, &ue) {
		return fmt.Sprintf("%s is a %s, not what the format has", ue.Field, ue.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end") {
		return "the body ends early (truncated?)"
	}
	return err.Error()
}

// Upstream reads a provider's public status and fails while the provider
// reports an incident on a watched product. It polls politely: ETag and
// Last-Modified are sent back, and a slow or failing provider is polled
// less often (up to 8 intervals apart). An unreadable feed is not our
// outage: the last verdict stands, and the error is logged.
type Upstream struct {
	ID       string
	Provider string // for people: "Google Workspace"
	Format   string
	URL      string
	Base     string // makes relative incident links absolute
	Products []string
	Window   time.Duration // RSS: how long an item counts as news
	Interval time.Duration
	Timeout  time.Duration
	Client   *http.Client
	Clock    clock.Clock
	// OnError is told when the feed cannot be read or parsed.
	OnError func(err error)

	mu sync.Mutex
	// etag and modified are the validators of the last good read of URL
	// (and only of URL: the incidents.json read for closing updates has
	// none), sent back so an unchanged feed costs a 304.
	etag      string
	modified  string
	last      []ProviderIncident
	closed    []ProviderIncident // open in the good read before last, ended in the last one
	lastOK    bool               // last is from a good read
	backoff   int                // doublings of the interval while the provider struggles
	nextFetch time.Time
}

// Active returns what the last good read found. RSS items age out of the
// window even while the feed answers 304.
func (u *Upstream) Active() []ProviderIncident {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := slices.Clone(u.last)
	if u.Format == FeedRSS {
		now := u.Clock.Now()
		out = slices.DeleteFunc(out, func(in ProviderIncident) bool { return now.Sub(in.Started) > u.Window })
	}
	return out
}

// Closed returns the incidents the last good read found ended that the
// read before it had open, each with the link and title it had while open
// and the provider's final updates (their "resolved"), so those can be
// mirrored before our linked incident resolves.
func (u *Upstream) Closed() []ProviderIncident {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.closed)
}

// Probe implements Prober.
func (u *Upstream) Probe(ctx context.Context) upstate.Result {
	now := u.Clock.Now()
	u.mu.Lock()
	skip := now.Before(u.nextFetch)
	u.mu.Unlock()
	if !skip {
		start := u.Clock.Now()
		err := u.fetch(ctx, now)
		took := u.Clock.Now().Sub(start)
		u.mu.Lock()
		if err != nil || took > u.Timeout/2 {
			u.backoff = min(u.backoff+1, 3)
		} else {
			u.backoff = 0
		}
		if u.backoff > 0 {
			u.nextFetch = now.Add(u.Interval * time.Duration(1<<u.backoff))
		}
		u.mu.Unlock()
		if err != nil && u.OnError != nil {
			u.OnError(err)
		}
	}
	return u.verdict(now)
}

func (u *Upstream) fetch(ctx context.Context, now time.Time) error {
	u.mu.Lock()
	etag, modified := u.etag, u.modified
	u.mu.Unlock()
	body, hdr, err := u.get(ctx, u.URL, etag, modified)
	if err != nil {
		return err
	}
	if body == nil { // 304: the last verdict stands, nothing is parsed again
		u.mu.Lock()
		// A 304 may carry fresher validators (RFC 9110, 15.4.5).
		if v := hdr.Get("ETag"); v != "" {
			u.etag = v
		}
		if v := hdr.Get("Last-Modified"); v != "" {
			u.modified = v
		}
		u.mu.Unlock()
		return nil
	}
	all, err := parseFeed(u.Format, body, u.Products, u.Base, now, u.Window)
	if err != nil {
		return fmt.Errorf("%s: %v", u.Provider, err)
	}
	var active []ProviderIncident
	ended := map[string]ProviderIncident{}
	open := map[string]bool{}
	for _, in := range all {
		if in.Ended {
			ended[in.ID] = in
		} else {
			active = append(active, in)
			open[in.ID] = true
		}
	}
	u.mu.Lock()
	prev := u.last
	u.mu.Unlock()
	var closed, gone []ProviderIncident
	for _, p := range prev {
		switch e, ok := ended[p.ID]; {
		case open[p.ID]:
		case ok:
			closed = append(closed, closing(p, e.Updates))
		default:
			gone = append(gone, p)
		}
	}
	if len(gone) > 0 {
		final, err := u.finalUpdates(ctx, gone)
		if err != nil && u.OnError != nil {
			u.OnError(err) // the summary read stands; the closing words are lost
		}
		for _, p := range gone {
			closed = append(closed, closing(p, final[p.ID].Updates))
		}
	}
	u.mu.Lock()
	u.last, u.closed, u.lastOK = active, closed, true
	u.etag, u.modified = hdr.Get("ETag"), hdr.Get("Last-Modified")
	u.mu.Unlock()
	return nil
}

// closing is an incident we reported, now ended: its link and title as we
// had them (our linked incident is found by that link), and the provider's
// final updates when known.
func closing(p ProviderIncident, final []ProviderUpdate) ProviderIncident {
	p.Ended = true
	if len(final) > 0 {
		p.Updates = final
	}
	return p
}

// finalUpdates reads the closing updates of incidents that left the feed.
// Statuspage's summary.json lists only unresolved incidents, so one that
// resolves simply disappears; /api/v2/incidents.json beside it lists the
// 50 most recent, resolved ones included (there is no public
// /incidents/{id}.json), and is read once, when they disappear. Other
// feeds keep ended incidents (Google sets end) or have nothing more.
func (u *Upstream) finalUpdates(ctx context.Context, gone []ProviderIncident) (map[string]ProviderIncident, error) {
	if u.Format != FeedStatuspage || !slices.ContainsFunc(gone, func(p ProviderIncident) bool { return !strings.HasPrefix(p.ID, componentPrefix) }) {
		return nil, nil
	}
	base, err := url.Parse(u.URL)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", u.Provider, err)
	}
	body, _, err := u.get(ctx, base.ResolveReference(&url.URL{Path: "incidents.json"}).String(), "", "")
	if err != nil {
		return nil, fmt.Errorf("closing updates: %w", err)
	}
	if body == nil {
		return nil, fmt.Errorf("%s: incidents.json answered 304 to an unconditional request", u.Provider)
	}
	out, err := parseStatuspageIncidents(body)
	if err != nil {
		return nil, fmt.Errorf("%s: closing updates: %v", u.Provider, err)
	}
	return out, nil
}

// get reads one feed URL, conditionally when etag or modified is set. It
// returns a nil body for 304 Not Modified, and the response's header.
func (u *Upstream) get(ctx context.Context, target, etag, modified string) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, u.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("User-Agent", "Upstate status checker (+https://github.com/upstatehq/upstate)")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if modified != "" {
		req.Header.Set("If-Modified-Since", modified)
	}
	resp, err := u.Client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %s", u.Provider, describeErr(ctx, err, u.Timeout))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return nil, resp.Header, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s answered HTTP %d", u.Provider, resp.StatusCode)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if ct == "text/html" {
		return nil, nil, fmt.Errorf("%s sent an HTML page, not a %s feed (is the URL right?)", u.Provider, u.Format)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFeed+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: reading the feed: %v", u.Provider, err)
	}
	if len(body) > maxFeed {
		return nil, nil, fmt.Errorf("%s: the feed is larger than %d MiB", u.Provider, maxFeed>>20)
	}
	return body, resp.Header, nil
}

// verdict turns what the provider reports into a result, carrying the
// provider's incident it fails on and the updates to mirror.
func (u *Upstream) verdict(now time.Time) upstate.Result {
	active := u.Active()
	r := upstate.Result{CheckID: u.ID, At: now, Outcome: upstate.OutcomeOK, Note: u.Provider + " reports no incident",
		Provider: &upstate.ProviderReport{}}
	// Passing results too: the read that finds the provider's incident
	// over carries their closing update.
	for _, in := range append(u.Closed(), active...) {
		news := upstate.ProviderNews{Link: u.link(in)}
		for _, x := range in.Updates {
			news.Updates = append(news.Updates, upstate.ProviderUpdate{Key: x.Key, At: x.At, Text: x.Text, Status: ourStatus(x.Status)})
		}
		r.Provider.News = append(r.Provider.News, news)
	}
	if len(active) == 0 {
		return r
	}
	// The worst first: an outage, then a partial outage, then the rest.
	rank := func(in ProviderIncident) int {
		switch {
		case in.Severity == upstate.StateDown:
			return 2
		case in.Partial:
			return 1
		}
		return 0
	}
	worst := active[0]
	for _, in := range active {
		if rank(in) > rank(worst) {
			worst = in
		}
	}
	cause := u.link(worst)
	r.Provider.Cause, r.Provider.Partial = &cause, worst.Severity != upstate.StateDown && worst.Partial
	msg := fmt.Sprintf("%s reports %q", u.Provider, worst.Title)
	if worst.Impact != "" && worst.Impact != "feed" {
		msg += " (" + strings.ToLower(strings.ReplaceAll(worst.Impact, "_", " ")) + ")"
	}
	if len(active) > 1 {
		msg += fmt.Sprintf(" and %d more", len(active)-1)
	}
	if n := len(worst.Updates); n > 0 && worst.Updates[n-1].Text != "" {
		msg += ": " + strings.TrimRight(firstLine(stripTags(worst.Updates[n-1].Text)), ".")
	}
	r.Error = msg
	if worst.Severity == upstate.StateDown {
		r.Outcome = upstate.OutcomeFail
	} else {
		r.Outcome = upstate.OutcomeSlow
	}
	return r
}

// link is how our incidents point to a provider's incident: their own
// page, which the feed reader keeps only when it is an http(s) URL, else
// the configured feed.
func (u *Upstream) link(in ProviderIncident) upstate.Upstream {
	target := in.URL
	if target == "" {
		target = u.URL
	}
	return upstate.Upstream{Provider: u.Provider, Title: in.Title, URL: target}
}
