package client_test

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"

	"github.com/upstatehq/upstate/client"
)

// The README's example, kept compiling.
func Example() {
	ctx := context.Background()
	status := &client.Status{URL: "https://status.example.com"}
	reporter := &client.Reporter{URL: "https://status.example.com", Token: os.Getenv("UPSTATE_METRICS_TOKEN"), App: "web"}
	go reporter.Run(ctx)
	hc := &http.Client{Transport: &client.Transport{
		Status:    status,
		Component: func(r *http.Request) string { return "conversion" },
		Observer:  reporter,
	}}
	if _, err := hc.Get("https://convert.example.com/v1/convert"); err != nil {
		var e *client.Error
		if errors.As(err, &e) && e.Incident != nil {
			log.Printf("conversion is down: %s (%s)", e.Incident.Name, e.Incident.Shortlink)
		}
	}
	mux := http.NewServeMux()
	_ = client.Middleware(status, "conversion")(mux)
}
