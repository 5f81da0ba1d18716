package check

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
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

// FeedDefaults are the public URLs and incident page bases of the feeds
// that have one.
var FeedDefaults = map[string]struct{ URL, Base, Name string }{
	FeedGoogleWorkspace: {"https://www.google.com/appsstatus/dashboard/incidents.json", "https://www.google.com/appsstatus/dashboard/", "Google Workspace"},
	FeedGoogleCloud:     {"https://status.cloud.google.com/incidents.json", "https://status.cloud.google.com/", "Google Cloud"},
}

// ProviderIncident is an incident a provider reports, in our words.
type ProviderIncident struct {
	ID       string
	Title    string
	Severity upstate.State // StateDown for an outage, StateDegraded for a disruption
	Impact   string        // the provider's own word for it
	URL      string
	Started  time.Time
	Products []string // the affected products or components, by name
	Updates  []ProviderUpdate
}

// ProviderUpdate is one update a provider posted on an incident.
type ProviderUpdate struct {
	At   time.Time
	Text string
}

// maxFeed bounds what is read of a feed.
const maxFeed = 5 << 20

// ParseFeed reads a provider's status in one format and returns its
// active incidents that affect the watched products (any when watched is
// empty), matching products by id or name without case. base makes
// relative incident links absolute; now and window judge RSS items.
func ParseFeed(format string, body []byte, watched []string, base string, now time.Time, window time.Duration) ([]ProviderIncident, error) {
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

func parseStatuspage(body []byte, wants func(...string) bool) ([]ProviderIncident, error) {
	var doc struct {
		Page       *struct{ URL string } `json:"page"`
		Components []struct {
			ID, Name, Status string
			GroupID          *string `json:"group_id"`
		} `json:"components"`
		Incidents []struct {
			ID, Name, Status, Impact, Shortlink string
			StartedAt                           time.Time `json:"started_at"`
			CreatedAt                           time.Time `json:"created_at"`
			Updates                             []struct {
				Body      string
				CreatedAt time.Time `json:"created_at"`
			} `json:"incident_updates"`
			Components []struct{ ID, Name string } `json:"components"`
		} `json:"incidents"`
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
		if in.Status == "resolved" || in.Status == "postmortem" || in.Status == "completed" {
			continue
		}
		var ids []string
		var names []string
		for _, c := range in.Components {
			ids = append(ids, c.ID, c.Name)
			names = append(names, c.Name)
		}
		if !wants(ids...) && !(len(in.Components) == 0 && wants()) {
			continue
		}
		pi := ProviderIncident{ID: in.ID, Title: in.Name, Impact: in.Impact, URL: in.Shortlink, Started: in.StartedAt, Products: names, Severity: upstate.StateDegraded}
		if pi.Started.IsZero() {
			pi.Started = in.CreatedAt
		}
		if in.Impact == "critical" {
			pi.Severity = upstate.StateDown
		}
		if pi.URL == "" && doc.Page.URL != "" {
			pi.URL = strings.TrimRight(doc.Page.URL, "/") + "/incidents/" + in.ID
		}
		for i := len(in.Updates) - 1; i >= 0; i-- { // oldest first
			pi.Updates = append(pi.Updates, ProviderUpdate{At: in.Updates[i].CreatedAt, Text: strings.TrimSpace(in.Updates[i].Body)})
		}
		for _, n := range names {
			seen[n] = true
		}
		out = append(out, pi)
	}
	// A component in trouble without an incident still counts.
	for _, c := range doc.Components {
		st := upstate.Status(c.Status)
		if st.Severity() == 0 || !wants(c.ID, c.Name) || seen[c.Name] {
			continue
		}
		pi := ProviderIncident{ID: "component-" + c.ID, Title: c.Name + ": " + strings.ToLower(st.Label()), Impact: c.Status, Products: []string{c.Name}, Severity: upstate.StateDegraded}
		if st == upstate.MajorOutage {
			pi.Severity = upstate.StateDown
		}
		if doc.Page.URL != "" {
			pi.URL = doc.Page.URL
		}
		out = append(out, pi)
	}
	return out, nil
}

func parseGoogle(body []byte, wants func(...string) bool, base string) ([]ProviderIncident, error) {
	type update struct {
		When time.Time `json:"when"`
		Text string    `json:"text"`
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
		if in.End != nil && *in.End != "" {
			continue
		}
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
		pi := ProviderIncident{ID: in.ID, Title: firstLine(stripTags(in.ExternalDesc)), Impact: in.StatusImpact, Started: in.Begin, Products: names, Severity: upstate.StateDegraded}
		switch {
		case in.StatusImpact == "SERVICE_INFORMATION":
			continue // news, not a disruption
		case in.StatusImpact == "SERVICE_OUTAGE" || in.Severity == "high":
			pi.Severity = upstate.StateDown
		}
		if in.URI != "" {
			pi.URL = base + strings.TrimLeft(in.URI, "/")
		}
		ups := in.Updates
		slices.SortStableFunc(ups, func(a, b update) int { return a.When.Compare(b.When) })
		for _, u := range ups {
			pi.Updates = append(pi.Updates, ProviderUpdate{At: u.When, Text: strings.TrimSpace(u.Text)})
		}
		if len(pi.Updates) == 0 && in.Recent != nil {
			pi.Updates = append(pi.Updates, ProviderUpdate{At: in.Recent.When, Text: strings.TrimSpace(in.Recent.Text)})
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
		items = append(items, item{id, it.Title, it.Description, it.Link, at, it.Category})
	}
	for _, e := range doc.Entries {
		at, _ := parseFeedTime(e.Updated)
		link := ""
		if len(e.Link) > 0 {
			link = e.Link[0].Href
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
		words := strings.ToLower(it.title + " " + stripTags(it.text))
		over := false
		for _, w := range resolvedWords {
			if strings.Contains(words, w) {
				over = true
			}
		}
		if over || !wants(append([]string{it.title}, it.tags...)...) && !titleMentions(it.title, wants) {
			continue
		}
		out = append(out, ProviderIncident{ID: it.id, Title: strings.TrimSpace(stripTags(it.title)), Impact: "feed", URL: it.link, Started: it.at,
			Severity: upstate.StateDegraded, Updates: []ProviderUpdate{{At: it.at, Text: firstLine(stripTags(it.text))}}})
	}
	return out, nil
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

	mu        sync.Mutex
	etag      string
	modified  string
	last      []ProviderIncident
	lastOK    bool // last is from a good read
	backoff   int  // doublings of the interval while the provider struggles
	nextFetch time.Time
}

// Active returns what the last good read found.
func (u *Upstream) Active() []ProviderIncident {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.last)
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
	ctx, cancel := context.WithTimeout(ctx, u.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.URL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "Upstate status checker (+https://github.com/upstatehq/upstate)")
	u.mu.Lock()
	if u.etag != "" {
		req.Header.Set("If-None-Match", u.etag)
	}
	if u.modified != "" {
		req.Header.Set("If-Modified-Since", u.modified)
	}
	u.mu.Unlock()
	resp, err := u.Client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %s", u.Provider, describeErr(ctx, err, u.Timeout))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered HTTP %d", u.Provider, resp.StatusCode)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if ct == "text/html" {
		return fmt.Errorf("%s sent an HTML page, not a %s feed (is the URL right?)", u.Provider, u.Format)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFeed+1))
	if err != nil {
		return fmt.Errorf("%s: reading the feed: %v", u.Provider, err)
	}
	if len(body) > maxFeed {
		return fmt.Errorf("%s: the feed is larger than %d MiB", u.Provider, maxFeed>>20)
	}
	active, err := ParseFeed(u.Format, body, u.Products, u.Base, now, u.Window)
	if err != nil {
		return fmt.Errorf("%s: %v", u.Provider, err)
	}
	u.mu.Lock()
	u.last, u.lastOK = active, true
	u.etag, u.modified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	u.mu.Unlock()
	return nil
}

// verdict turns what the provider reports into a result.
func (u *Upstream) verdict(now time.Time) upstate.Result {
	r := upstate.Result{CheckID: u.ID, At: now, Outcome: upstate.OutcomeOK, Note: u.Provider + " reports no incident"}
	active := u.Active()
	if len(active) == 0 {
		return r
	}
	worst := active[0]
	for _, in := range active {
		if in.Severity == upstate.StateDown && worst.Severity != upstate.StateDown {
			worst = in
		}
	}
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
