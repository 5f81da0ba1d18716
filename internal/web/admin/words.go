package admin

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/upstatehq/upstate"
)

// formWords says an error in the words of the form it came from: the
// domain names fields as the API does ("name is required", "reach.regions:
// ..."), the form by its labels ("Title is required"). labels maps an API
// name to its label; a plain word (name, message) is replaced only where a
// problem starts, a dotted or snake_case name (scheduled_until,
// components.api) wherever it appears, since only field names look so.
func formWords(err error, labels map[string]string) string {
	msg := upstate.ErrorMessage(err)
	keys := slices.SortedFunc(func(yield func(string) bool) {
		for k := range labels {
			if !yield(k) {
				return
			}
		}
	}, func(a, b string) int { return cmp.Compare(len(b), len(a)) }) // longest first
	probs := strings.Split(msg, "; ")
	for i, p := range probs {
		if whole, ok := labels[p]; ok {
			probs[i] = whole
			continue
		}
		for _, k := range keys {
			if strings.ContainsAny(k, "._") {
				p = replaceField(p, k, labels[k])
			} else if rest, ok := strings.CutPrefix(p, k); ok && (rest == "" || rest[0] == ' ' || rest[0] == ':') {
				p = labels[k] + rest
			}
		}
		probs[i] = capitalise(p)
	}
	return strings.Join(probs, "; ")
}

// replaceField replaces the field name k in p where it stands as a whole
// name (not followed by more of a name: components.api, not
// components.api2).
func replaceField(p, k, label string) string {
	var b strings.Builder
	for {
		i := strings.Index(p, k)
		if i < 0 {
			b.WriteString(p)
			return b.String()
		}
		end := i + len(k)
		if end < len(p) && isNameByte(p[end]) || i > 0 && isNameByte(p[i-1]) {
			b.WriteString(p[:end])
			p = p[end:]
			continue
		}
		b.WriteString(p[:i])
		b.WriteString(label)
		p = p[end:]
	}
}

func isNameByte(c byte) bool {
	return c == '_' || c == '.' || c == '[' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// incidentLabels are the incident forms' labels for the API's names, with
// each component's name for its components.<id>.
func incidentLabels(comps []componentRow, message string) map[string]string {
	l := map[string]string{
		"name": "Title", "message": message, "status": "Status", "impact": "Impact",
		"reach.failing_percent": "Share of requests failing", "reach.failing_percent_max": "Share of requests failing", "reach.regions": "Regions", "reach.segments": "Customer segments",
		"upstream.provider": "Upstream provider", "upstream.title": "Their incident title", "upstream.url": "Link to their status page",
		"at": "Happened at", "started_at": "Started at", "detected_at": "Detected at", "until": "Until",
	}
	for _, c := range comps {
		l["components."+c.ID] = c.Name
	}
	return l
}

// maintLabels are the maintenance form's labels for the API's names.
func maintLabels() map[string]string {
	return map[string]string{
		"name": "Title", "message": "What users see", "scheduled_for": "Starts", "scheduled_until": "Ends",
		"scheduled_for and scheduled_until are required (RFC 3339 times)": "Starts and Ends are required",
		"components is required: the components the work affects":         "Components under maintenance: choose at least one",
		"components:": "Components under maintenance:",
	}
}

// incidentListSize is how many incidents a page of the list shows.
const incidentListSize = 30

// incidentQuery is the incident list's search, filters and page, as the
// query string carries them.
type incidentQuery struct {
	Q         string // words in the name
	Status    string // "open", "resolved", or an incident status
	Component string
	Period    string // "24h", "7d", "30d", "90d", or "" for any time
	Page      int    // from 1
}

// periods are the incident list's periods, in order.
func periods() []struct{ Value, Label string } {
	return []struct{ Value, Label string }{{"", "Any time"}, {"24h", "Last 24 hours"}, {"7d", "Last 7 days"}, {"30d", "Last 30 days"}, {"90d", "Last 90 days"}}
}

func readIncidentQuery(v url.Values) incidentQuery {
	q := incidentQuery{Q: strings.TrimSpace(v.Get("q")), Status: v.Get("status"), Component: v.Get("component"), Period: v.Get("period")}
	q.Page, _ = strconv.Atoi(v.Get("page"))
	q.Page = max(q.Page, 1)
	return q
}

// since is when the period starts, zero for any time.
func (q incidentQuery) since(now time.Time) time.Time {
	days := map[string]int{"24h": 1, "7d": 7, "30d": 30, "90d": 90}[q.Period]
	if days == 0 {
		return time.Time{}
	}
	return now.AddDate(0, 0, -days)
}

// Filtered reports whether the query asks for anything but everything.
func (q incidentQuery) Filtered() bool {
	return q.Q != "" || q.Status != "" || q.Component != "" || q.Period != ""
}

// maxSearchWords is how many words of a search are looked for.
const maxSearchWords = 10

// filter is the store's filter for the query: the search, the status,
// the component and the period are the SQL's, so a year of history is
// never read to show one page. Hidden incidents are listed (marked).
func (q incidentQuery) filter(now time.Time) upstate.IncidentFilter {
	words := strings.Fields(q.Q)
	// A search is a few words; more would be a clause each for nothing.
	words = words[:min(len(words), maxSearchWords)]
	f := upstate.IncidentFilter{Since: q.since(now), Component: q.Component, Words: words, Hidden: upstate.HiddenAny}
	switch q.Status {
	case "":
	case "open":
		f.OpenOnly = true
	case "resolved":
		f.ResolvedOnly = true
	default:
		f.Status = upstate.IncidentStatus(q.Status)
	}
	return f
}

// URL is the list with the same search and filters at page n.
func (q incidentQuery) URL(n int) string {
	v := url.Values{}
	for k, s := range map[string]string{"q": q.Q, "status": q.Status, "component": q.Component, "period": q.Period} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	if len(v) == 0 {
		return "/admin/#incidents"
	}
	return "/admin/?" + v.Encode() + "#incidents"
}

// incidentList is one page of the filtered list.
type incidentList struct {
	Query      incidentQuery
	Items      []*upstate.Incident
	Total      int
	First      int // the first item's position, from 1
	Last       int
	Prev, Next string
}

// incidentPage reads one page of the list from the store: how many match,
// then that page's incidents (a page past the last shows the last).
func (s *Server) incidentPage(ctx context.Context, q incidentQuery) (incidentList, error) {
	f := q.filter(s.opts.Now())
	total, err := s.opts.Reads.CountIncidents(ctx, f)
	if err != nil {
		return incidentList{}, err
	}
	l := incidentList{Query: q, Total: total}
	from := (q.Page - 1) * incidentListSize
	if from >= total && total > 0 {
		q.Page = (total-1)/incidentListSize + 1
		l.Query, from = q, (q.Page-1)*incidentListSize
	}
	to := min(from+incidentListSize, total)
	if from < to {
		f.Limit, f.Offset = incidentListSize, from
		if l.Items, err = s.opts.Reads.ListIncidents(ctx, f); err != nil {
			return l, err
		}
		l.First, l.Last = from+1, from+len(l.Items)
	}
	if q.Page > 1 {
		l.Prev = q.URL(q.Page - 1)
	}
	if to < total {
		l.Next = q.URL(q.Page + 1)
	}
	return l, nil
}

// relabel is err in the form's words when the input is at fault, as it is;
// otherwise.
// rfc3339Re finds the times the API's messages give (RFC 3339).
var rfc3339Re = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})`)

// inWords is relabel for the forms that take times: the times the
// message gives, in the API's RFC 3339, are said in the page's zone, as
// the person typed them ("Aug 17, 14:56 PDT").
func (s *Server) inWords(err error, labels map[string]string) error {
	err = relabel(err, labels)
	if upstate.ErrorCode(err) != upstate.EINVALID {
		return err
	}
	loc := s.opts.Location()
	msg := rfc3339Re.ReplaceAllStringFunc(upstate.ErrorMessage(err), func(x string) string {
		t, perr := time.Parse(time.RFC3339Nano, x)
		if perr != nil {
			return x
		}
		return t.In(loc).Format("Jan 2, 2006 15:04 MST")
	})
	return upstate.Errorf(upstate.EINVALID, "%s", msg)
}

func relabel(err error, labels map[string]string) error {
	if upstate.ErrorCode(err) != upstate.EINVALID {
		return err
	}
	return upstate.Errorf(upstate.EINVALID, "%s", formWords(err, labels))
}

// silenceLabels are the silence form's labels for the API's names.
func silenceLabels() map[string]string {
	l := map[string]string{
		"matchers is required: e.g. component=api, channel=ops-slack": "Mute notifications matching: give at least one line, e.g. component=api",
		"comment": "Why", "for": "For",
	}
	for i := range 50 {
		l[fmt.Sprintf("matchers[%d]", i)] = fmt.Sprintf("Mute notifications matching, line %d", i+1)
	}
	return l
}

// overrideLabels are the on-call override form's labels for the API's
// names.
func overrideLabels() map[string]string {
	return map[string]string{
		"schedule": "Schedule", "person": "Who",
		"from and until are required":                                  "From and Until are required",
		"from and until must be a date and a time":                     "From and Until must be a date and a time",
		"until must be after from: the override ends before it starts": "Until must be after From: the override ends before it starts",
		"until is in the past":                                         "Until is in the past",
	}
}
