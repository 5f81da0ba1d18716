package demo

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// The classroom API's daily quota, as the demo's quota check reads it from
// the world's Prometheus-compatible API.
const (
	quotaLimit      = 10000
	quotaNormalRate = 5.0 // requests a minute on a quiet day
	quotaQuery      = "classroom_api_quota_used"
)

// quotaMark is a change in how fast the quota is used: from at, used
// grows by rate a minute, until the next mark or the daily reset.
type quotaMark struct {
	at   time.Time
	used float64
	rate float64
}

// quotaUsed is the quota used at t: the last mark's line, clipped at the
// limit, or since midnight (the daily reset) at the normal rate when the
// mark is from an earlier day. Must be called with w.mu held.
func (w *World) quotaUsed(t time.Time) float64 {
	l := t.In(Zone)
	midnight := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, Zone)
	var m *quotaMark
	for i := range w.quota {
		if !w.quota[i].at.After(t) {
			m = &w.quota[i]
		}
	}
	if m == nil || m.at.Before(midnight) {
		m = &quotaMark{at: midnight, rate: quotaNormalRate}
	}
	return min(quotaLimit, m.used+m.rate*t.Sub(m.at).Minutes())
}

// setQuotaRate makes the quota be used at rate a minute from now on (used,
// when not negative, is the new amount used).
func (w *World) setQuotaRate(rate, used float64) {
	w.set(func(w *World) {
		now := w.clock.Now()
		if used < 0 {
			used = w.quotaUsed(now)
		}
		w.quota = append(w.quota, quotaMark{at: now, used: used, rate: rate})
	})
}

// prometheus answers the instant and range queries of the quota used, as
// a Prometheus server would, for what has happened up to now.
func (w *World) prometheus(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "application/json")
	if r.FormValue("query") != quotaQuery {
		rw.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(rw).Encode(map[string]any{"status": "error", "errorType": "bad_data", "error": "unknown series " + strconv.Quote(r.FormValue("query"))})
		return
	}
	num := func(k string) time.Time {
		f, _ := strconv.ParseFloat(r.FormValue(k), 64)
		return time.UnixMilli(int64(f * 1000))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock.Now()
	labels := map[string]string{"__name__": quotaQuery}
	val := func(t time.Time) [2]any {
		return [2]any{float64(t.Unix()), strconv.FormatFloat(w.quotaUsed(t), 'f', 0, 64)}
	}
	var data map[string]any
	if r.URL.Path == "/api/v1/query" {
		t := num("time")
		if t.After(now) {
			t = now
		}
		data = map[string]any{"resultType": "vector", "result": []any{map[string]any{"metric": labels, "value": val(t)}}}
	} else {
		step, _ := strconv.Atoi(r.FormValue("step"))
		var values [][2]any
		for t := num("start"); step > 0 && !t.After(num("end")) && !t.After(now); t = t.Add(time.Duration(step) * time.Second) {
			values = append(values, val(t))
		}
		data = map[string]any{"resultType": "matrix", "result": []any{map[string]any{"metric": labels, "values": values}}}
	}
	_ = json.NewEncoder(rw).Encode(map[string]any{"status": "success", "data": data})
}
