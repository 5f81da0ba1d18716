package config

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// Feeds are the formats an upstream check reads.
var Feeds = []string{"statuspage", "google-workspace", "google-cloud", "rss"}

// upstreamDefaults are the public status of providers that have one place.
var upstreamDefaults = map[string]struct{ url, name string }{
	"google-workspace": {"https://www.google.com/appsstatus/dashboard/incidents.json", "Google Workspace"},
	"google-cloud":     {"https://status.cloud.google.com/incidents.json", "Google Cloud"},
}

func (v *validator) upstream(p string, ch *Check) {
	if !slices.Contains(Feeds, ch.Feed) {
		if ch.Feed == "" {
			v.errf(p, "feed is required for upstream checks (one of %s)", strings.Join(Feeds, ", "))
		} else {
			v.errf(p+".feed", "unknown feed %q (one of %s)", ch.Feed, strings.Join(Feeds, ", "))
		}
		return
	}
	d := upstreamDefaults[ch.Feed]
	if ch.URL == "" {
		ch.URL = d.url
	}
	if ch.URL == "" {
		v.errf(p, "url is required for %s feeds (e.g. https://status.example.com/api/v2/summary.json)", ch.Feed)
	} else if u, err := url.Parse(ch.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errf(p+".url", "%q is not an http(s) URL", ch.URL)
	} else if ch.Provider == "" {
		ch.Provider = d.name
		if ch.Provider == "" {
			ch.Provider = u.Host
		}
	}
	if ch.Interval == 0 {
		ch.Interval = Duration(2 * time.Minute) // providers ask for polite polling
	}
	if ch.Interval.D() < 30*time.Second {
		v.errf(p+".interval", "%s is too often for a provider's status: at least 30s", ch.Interval.D())
	}
	if ch.Window == 0 {
		ch.Window = Duration(6 * time.Hour)
	}
	if ch.FailAfter == 0 {
		ch.FailAfter = 1 // the provider has confirmed it
	}
	if ch.RecoverAfter == 0 {
		ch.RecoverAfter = 1
	}
	if ch.Recheck == nil {
		ch.Recheck = &Recheck{}
	}
}
