package importer

import (
	"strings"
	"testing"
)

// TestEdgesStillValid: odd but possible inputs still convert to a file
// config reads (or are warned about and left out).
func TestEdgesStillValid(t *testing.T) {
	gatus := []string{
		"endpoints:\n  - {name: 日本語, url: 'https://example.com/'}\n  - {name: '!!!', url: 'https://example.com/'}",
		"endpoints:\n  - {name: a, url: 'https://'}",
		"endpoints:\n  - {name: a, url: 'tcp://:80'}",
		"endpoints:\n  - {name: a, url: 'icmp://'}",
		"endpoints:\n  - {name: a, url: 'https://example.com', headers: {'Bad Header': 'x', X-Ok: \"a\\r\\nb\"}}",
		"endpoints:\n  - {name: a, url: 'https://example.com', interval: 1s, client: {timeout: 30s}}",
		"endpoints:\n  - {name: a, url: 'https://example.com', conditions: ['[STATUS] == 999', '[RESPONSE_TIME] < 0', '[CERTIFICATE_EXPIRATION] > 100000h']}",
		"endpoints:\n  - {name: a, url: '8.8.8.8:5353', dns: {query-name: example.com, query-type: aaaa}}",
		"endpoints:\n  - {name: a, url: 'not-an-ip', dns: {query-name: example.com, query-type: A}}",
		"endpoints:\n  - {name: a, url: 'https://example.com', conditions: ['[BODY].a == \"quoted\"', '[BODY] == ']}",
		"external-endpoints:\n  - {name: a, heartbeat: {interval: 1ms}}",
		"endpoints:\n  - {name: a, url: 'grpc://host', conditions: ['[RESPONSE_TIME] < 10']}",
		"endpoints:\n  - {name: a, url: 'ws://host/x', conditions: ['[BODY] == pat(**)']}",
	}
	kuma := []string{
		`{"monitorList": [{"id": 1, "name": "a", "type": "http", "url": "https://", "interval": 0.5, "timeout": 99}]}`,
		`{"monitorList": [{"id": 1, "name": "a", "type": "http", "url": "https://example.com", "headers": "{\"Bad Header\": \"x\"}"}]}`,
		`{"monitorList": [{"id": 1, "name": "a", "type": "port", "hostname": "::1", "port": 99999}]}`,
		`{"monitorList": [{"id": 1, "name": "a", "type": "dns", "hostname": "example.com", "dns_resolve_server": "::1", "port": 5353}]}`,
		`{"monitorList": [{"id": 1, "name": "a", "type": "push", "interval": 0}]}`,
		`{"monitorList": [{"id": 1, "name": "a", "type": "ping", "hostname": " "}]}`,
		`{"monitorList": [{"id": 1, "name": "a", "parent": 1, "type": "http", "url": "https://example.com", "maxretries": 1000, "accepted_statuscodes": ["600-700", "x", "300-399"]}]}`,
		`{"monitorList": [{"id": 1, "name": "", "type": "http", "url": "https://example.com"}, {"id": 2, "type": "http", "url": "https://example.com"}]}`,
	}
	check := func(t *testing.T, c *Converted, err error) {
		if err != nil {
			if !strings.Contains(err.Error(), "could be converted") && !strings.Contains(err.Error(), "Gatus refuses") {
				t.Errorf("refused without saying why it converted nothing: %v", err)
			}
			return
		}
		parseConverted(t, c)
	}
	for i, in := range gatus {
		t.Run("gatus"+strings.Repeat("_", i), func(t *testing.T) {
			c, err := FromGatus(strings.NewReader(in), "g.yaml")
			check(t, c, err)
		})
	}
	for i, in := range kuma {
		t.Run("kuma"+strings.Repeat("_", i), func(t *testing.T) {
			c, err := FromUptimeKuma(strings.NewReader(in), "k.json")
			check(t, c, err)
		})
	}
}
