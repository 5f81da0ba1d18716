package demo

import (
	"context"
	"fmt"
	"net/http"
)

// HTTPPinger is the simulated SaaS's nightly job calling in: a heartbeat
// ping to the status page at addr (host:port), through client.
func HTTPPinger(client *http.Client, addr string) Pinger {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/v1/heartbeats/nightly-drive-sync", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("heartbeat answered %s", resp.Status)
		}
		return nil
	}
}
