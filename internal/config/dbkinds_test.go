package config

import (
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate/internal/check"
)

// The database kinds' problems are reported by key with the file and
// line, all at once, and never show the DSN they are about.
func TestDatabaseProblems(t *testing.T) {
	const base = "page: {name: X}\ncomponents: [{id: db}]\nchecks:\n"
	const pw = "hunter2hunter2"
	env := func(name string) (string, bool) {
		switch name {
		case "BAD_DSN":
			return "postgres-at-db.internal with " + pw, true
		case "MYSQL_URL":
			return "mysql://app:" + pw + "@db.internal/orders", true
		case "REDIS_HOSTPORT":
			return "app:" + pw + "@cache.internal:6379", true
		}
		return "", false
	}
	src := base +
		"  - {id: a, kind: postgres, components: [db]}\n" + // 4
		"  - id: b\n" + // 5
		"    kind: postgres\n" +
		"    dsn: ${BAD_DSN}\n" + // 7
		"    query: '  '\n" + // 8
		"    timeout: 2s\n" +
		"    expect: {latency_under: 2s, status: [200]}\n" + // 10
		"    locks_waiting_above: -1\n" + // 11
		"    components: [db]\n" +
		"  - {id: c, kind: mysql, dsn: '${MYSQL_URL}', components: [db]}\n" + // 13
		"  - {id: d, kind: mysql, components: [db], locks_waiting_above: 2}\n" + // 14
		"  - id: e\n" + // 15
		"    kind: redis\n" +
		"    dsn: ${REDIS_HOSTPORT}\n" + // 17
		"    expect: {role: leader, link_up: true}\n" + // 18
		"    memory_above: 120\n" + // 19
		"    components: [db]\n" +
		"  - {id: f, kind: redis, dsn: 'redis://x', expect: {role: primary, link_up: true}, components: [db]}\n" + // 21
		"  - {id: g, kind: http, url: 'http://x', dsn: 'postgres://x', components: [db]}\n" // 22
	_, err := Parse("f.yaml", []byte(src), env)
	if err == nil {
		t.Fatal("no error")
	}
	got := err.Error()
	for _, want := range []string{
		"f.yaml:4: checks[0]: dsn is required for postgres checks (e.g. dsn: ${API_DB_DSN})",
		"f.yaml:7: checks[1].dsn: is not a PostgreSQL connection string (postgres://user:password@host:5432/dbname, or host=... user=... password=... dbname=...); the value is not shown, as it may hold a password",
		"f.yaml:8: checks[1].query: is empty (leave it out for SELECT 1)",
		"f.yaml:10: checks[1].expect.latency_under: 2s must be shorter than the timeout 2s",
		"f.yaml:10: checks[1].expect.status: status applies to http checks, not postgres",
		"f.yaml:11: checks[1].locks_waiting_above: must not be negative (0: any session waiting on a lock is too many)",
		"f.yaml:13: checks[2].dsn: is not a MySQL DSN (user:password@tcp(host:3306)/dbname, with the slash even without a database; not a URL)",
		"f.yaml:14: checks[3]: dsn is required for mysql checks (e.g. dsn: ${ORDERS_DB_DSN})",
		"f.yaml:14: checks[3].locks_waiting_above: locks_waiting_above applies to postgres checks, not mysql",
		"f.yaml:17: checks[4].dsn: is not a Redis URL (redis://:password@host:6379/0, rediss:// for TLS, or unix:///path/redis.sock)",
		`f.yaml:18: checks[4].expect.role: "leader" is not a role (master or replica)`,
		"f.yaml:19: checks[4].memory_above: 120 is not a percent between 0 and 100 (e.g. 90)",
		"f.yaml:21: checks[5].expect.link_up: asks a replica's link to its master, and role is master",
		"f.yaml:22: checks[6].dsn: dsn applies to postgres, mysql and redis checks, not http",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("error lacks %q", want)
		}
	}
	if strings.Contains(got, pw) || strings.Contains(got, "db.internal") || strings.Contains(got, "cache.internal") {
		t.Errorf("the problems show a DSN:\n%s", got)
	}
	if t.Failed() {
		t.Logf("got:\n%s", got)
	}
}

// What a database check says is in its section once loaded: the default
// query, an expected value however YAML typed it, the lock bound, the
// role by Redis's name for it.
func TestDatabaseSections(t *testing.T) {
	env := func(name string) (string, bool) {
		return map[string]string{
			"API_DB_DSN":  "postgres://status:pw@127.0.0.1:5432/api",
			"ORDERS_DSN":  "status:pw@tcp(127.0.0.1:3306)/orders",
			"REDIS_URL":   "redis://:pw@127.0.0.1:6379/0",
			"KEYWORD_DSN": "host=127.0.0.1 user=status dbname=api",
		}[name], true
	}
	src := "page: {name: X}\ncomponents: [{id: db}]\nchecks:\n" +
		"  - {id: a, kind: postgres, dsn: '${API_DB_DSN}', expect: {value: 1, latency_under: 500ms}, locks_waiting_above: 0, components: [db]}\n" +
		"  - {id: b, kind: postgres, dsn: '${KEYWORD_DSN}', query: SELECT true, expect: {value: true}, components: [db]}\n" +
		"  - {id: c, kind: mysql, dsn: '${ORDERS_DSN}', components: [db]}\n" +
		"  - {id: d, kind: redis, dsn: '${REDIS_URL}', expect: {role: slave, link_up: true}, memory_above: 90, components: [db]}\n"
	cfg, err := Parse("f.yaml", []byte(src), env)
	if err != nil {
		t.Fatal(err)
	}
	pg := cfg.Checks[0].Section.(*check.PostgresSection)
	if pg.Query != "SELECT 1" || pg.Expect.Value == nil || *pg.Expect.Value != "1" || pg.Expect.LatencyUnder != 500*time.Millisecond ||
		pg.LocksWaitingAbove == nil || *pg.LocksWaitingAbove != 0 || pg.DSN.Reveal() != "postgres://status:pw@127.0.0.1:5432/api" {
		t.Errorf("postgres = %+v", pg)
	}
	if kw := cfg.Checks[1].Section.(*check.PostgresSection); kw.Query != "SELECT true" || *kw.Expect.Value != "true" || kw.LocksWaitingAbove != nil {
		t.Errorf("postgres (keywords) = %+v", kw)
	}
	if my := cfg.Checks[2].Section.(*check.MySQLSection); my.Query != "SELECT 1" || my.Expect.Value != nil {
		t.Errorf("mysql = %+v", my)
	}
	if rd := cfg.Checks[3].Section.(*check.RedisSection); rd.Expect.Role != "replica" || !rd.Expect.LinkUp || rd.MemoryAbove != 90 {
		t.Errorf("redis = %+v", rd)
	}
}
