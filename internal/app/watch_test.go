package app

import (
	"testing"
	"time"

	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/probe/postgres"
)

// Every kind Upstate probes itself runs at its fast interval while it, or
// a component it watches, is in trouble, and is slow as soon as its
// latency bound passes; only kinds whose probe may be repeated burst;
// kinds told their results do neither.
func TestEveryProbedKindWatches(t *testing.T) {
	yaml := `page: {name: X}
components:
  - {id: api, name: API, depends_on: [db]}
  - {id: db, name: Database}
checks:
  - {id: web, kind: http, url: 'http://127.0.0.1:9/', expect: {latency_under: 2s}, components: [api]}
  - {id: pg, kind: postgres, dsn: 'postgres://u:p@127.0.0.1:9/x', expect: {latency_under: 500ms}, fast_interval: 10s, components: [db]}
  - {id: cert, kind: tls, address: '127.0.0.1:9', components: [api]}
  - {id: m, kind: metric, metric: errors, above: 5, components: [api]}
  - {id: g, kind: grpc, address: '127.0.0.1:50051', expect: {latency_under: 1s}, components: [api]}
  - {id: ws, kind: websocket, url: 'wss://live.example/updates', components: [api]}
`
	cfg, err := config.Parse("w.yaml", []byte(yaml), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	comp, err := compile(cfg, check.Env{Postgres: postgres.Dialer{}})
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string]int{}
	for i, j := range comp.jobs {
		jobs[j.ID] = i
	}
	web, pg, cert, m := comp.jobs[jobs["web"]], comp.jobs[jobs["pg"]], comp.jobs[jobs["cert"]], comp.jobs[jobs["m"]]
	if web.Burst.Count == 0 || web.Fast != 15*time.Second || web.SlowAfter != 2*time.Second {
		t.Errorf("http: burst %d, fast %s, slow after %s; want a burst, 15s, 2s", web.Burst.Count, web.Fast, web.SlowAfter)
	}
	if pg.Burst.Count != 0 || pg.Fast != 10*time.Second || pg.SlowAfter != 500*time.Millisecond || len(pg.Watch) != 1 {
		t.Errorf("postgres: burst %d, fast %s, slow after %s, watch %v; want none, 10s, 500ms, [db]", pg.Burst.Count, pg.Fast, pg.SlowAfter, pg.Watch)
	}
	if cert.Burst.Count != 0 || cert.Fast != 15*time.Second {
		t.Errorf("tls: burst %d, fast %s; want none, 15s", cert.Burst.Count, cert.Fast)
	}
	g, ws := comp.jobs[jobs["g"]], comp.jobs[jobs["ws"]]
	if g.Burst.Count == 0 || g.Host != "127.0.0.1:50051" || g.SlowAfter != time.Second {
		t.Errorf("grpc: burst %d, host %q, slow after %s; want a burst aimed at its address, 1s", g.Burst.Count, g.Host, g.SlowAfter)
	}
	if ws.Burst.Count == 0 || ws.Host != "live.example:443" {
		t.Errorf("websocket: burst %d, host %q; want a burst aimed at live.example:443", ws.Burst.Count, ws.Host)
	}
	if m.Burst.Count != 0 || m.Fast != 0 || m.SlowAfter != 0 {
		t.Errorf("metric: burst %d, fast %s, slow after %s; want none of them", m.Burst.Count, m.Fast, m.SlowAfter)
	}
}
