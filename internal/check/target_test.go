package check

import "testing"

func TestTargetShowsNoSecrets(t *testing.T) {
	for _, c := range []struct {
		name string
		s    Section
		want string
	}{
		{"url", &HTTPSection{URL: "https://bob:hunter2@api.example.com/health?token=s3cret#x"}, "https://api.example.com/health?…"},
		{"plain url", &HTTPSection{URL: "http://api.example.com/"}, "http://api.example.com/"},
		{"tcp", &TCPSection{Address: "db:5432"}, "db:5432"},
		{"dns", &DNSSection{Host: "example.com", RecordType: "A", Server: "1.1.1.1"}, "example.com A @1.1.1.1"},
		{"postgres", &PostgresSection{Query: "SELECT 1"}, "SELECT 1"},
		{"told", &HeartbeatSection{}, ""},
	} {
		if got := Target(c.s); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
