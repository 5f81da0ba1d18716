package demo

import (
	"context"
	"fmt"
	"net/http"
)

// HeartbeatToken is what the simulated nightly job pings with, as a
// real one would (a heartbeat without a token can be pinged by anyone).
// The demo runs on loopback alone, so a fixed one is no secret to keep.
const HeartbeatToken = "demo-nightly-job-token"

// HTTPPinger is the simulated SaaS's nightly job calling in: a heartbeat
// ping to the status page at addr (host:port), through client.
func HTTPPinger(client *http.Client, addr string) Pinger {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/v1/heartbeats/nightly-drive-sync", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+HeartbeatToken)
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
