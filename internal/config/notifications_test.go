package config

import (
	"strings"
	"testing"
	"time"
)

func TestNotifications(t *testing.T) {
	const base = "page: {name: X}\ncomponents:\n  - {id: web, name: Web}\nnotifications:\n  channels:\n"
	good := base + `    - id: ops
      type: slack
      url: https://hooks.slack.com/services/T0/B0/SECRET
      events: [incident.created, incident.resolved]
      components: [web]
      template: {title: "{{.Impact}}: {{.Title}}"}
    - id: pd
      type: pagerduty
      routing_key: R0UT1NGKEY
    - id: mail
      type: email
      to: [oncall@example.com]
      smtp: {host: smtp.example.com, from: "Status <status@example.com>", username: u, password: p}
    - id: hook
      type: webhook
      url: https://example.com/hook
      secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
`
	c, err := Parse("f.yaml", []byte(good), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	n := c.Notifications
	if len(n.Channels) != 4 || n.GiveUpAfter.D() != 24*time.Hour || n.Timeout.D() != 15*time.Second || n.Channels[2].SMTP.Security != "starttls" {
		t.Errorf("notifications = %+v", n)
	}
	// Templates are checked where channels are compiled (config does not
	// know what a message has); config keeps the line for that check's
	// file:line: the template key's, else the channel's.
	if n.Channels[0].TemplateLine != 11 || n.Channels[1].TemplateLine != 12 {
		t.Errorf("template lines %d, %d; want 11 and 12", n.Channels[0].TemplateLine, n.Channels[1].TemplateLine)
	}
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown type", "    - {id: a, type: slak, url: https://x}\n", []string{`f.yaml:6: notifications.channels[0].type: unknown type "slak" (did you mean "slack"?); one of slack`}},
		{"missing url", "    - {id: a, type: discord}\n", []string{`notifications.channels[0]: url is required for discord channels`}},
		{"bad url, not printed", "    - {id: a, type: teams, url: 'ftp://x/SECRET'}\n", []string{`notifications.channels[0].url: is not an http(s) URL`}},
		{"wrong key", "    - {id: a, type: slack, url: https://x, routing_key: k}\n", []string{`notifications.channels[0].routing_key: routing_key applies to pagerduty channels, not slack`}},
		{"webhook secret", "    - {id: a, type: webhook, url: https://x}\n    - {id: b, type: webhook, url: https://x, secret: nope}\n",
			[]string{`channels[0]: secret is required for webhook channels`, `channels[1].secret: must be "whsec_"`}},
		{"pagerduty key", "    - {id: a, type: pagerduty}\n", []string{`routing_key is required for pagerduty channels`}},
		{"opsgenie key", "    - {id: a, type: opsgenie}\n", []string{`api_key is required for opsgenie channels`}},
		{"email", "    - {id: a, type: email, to: [nobody], smtp: {security: ssl, from: me, username: u}}\n",
			[]string{`channels[0].smtp: host is required`, `channels[0].smtp: username and password go together`, `channels[0].smtp.from: "me" is not an email address`,
				`channels[0].smtp.security: "ssl" is not one of starttls, tls, none`, `channels[0].to[0]: "nobody" is not an email address`}},
		{"email without smtp", "    - {id: a, type: email, to: [a@b.c]}\n", []string{`smtp is required for email channels`}},
		{"events and components", "    - {id: a, type: slack, url: https://x, events: [incident.exploded], components: [api]}\n",
			[]string{`channels[0].components[0]: no component has id "api"`, `channels[0].events[0]: unknown event "incident.exploded"`}},
		{"duplicate", "    - {id: a, type: slack, url: https://x}\n    - {id: a, type: slack, url: https://y}\n", []string{`duplicate channel id "a"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(base+tc.yaml), noEnv)
			if err == nil {
				t.Fatal("no error")
			}
			got := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			if strings.Contains(got, "SECRET") {
				t.Errorf("an error printed the URL's secret:\n%s", got)
			}
		})
	}
}
