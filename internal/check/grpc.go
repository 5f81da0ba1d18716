package check

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// grpcKind asks a gRPC server's standard health service
// (grpc.health.v1.Health/Check) whether a service is serving.
func grpcKind() Kind {
	return Kind{Name: "grpc", New: func() Section { return &GRPCSection{} }, Repeat: true}
}

// GRPCSection is a grpc check's configuration.
type GRPCSection struct {
	Address string `yaml:"address"` // host:port
	// Service is the name the health service is asked about; "" asks
	// about the server as a whole.
	Service string `yaml:"service"`
	// TLS speaks TLS to the server (verified against the system's roots,
	// or CAFile's), unless InsecureSkipVerify.
	TLS                bool              `yaml:"tls"`
	ServerName         string            `yaml:"server_name"`
	CAFile             string            `yaml:"ca_file"`
	InsecureSkipVerify bool              `yaml:"insecure_skip_verify"`
	Expect             GRPCExpectSection `yaml:"expect"`
}

// GRPCExpectSection is what a grpc check's answer must look like: SERVING,
// and as fast as this.
type GRPCExpectSection struct {
	LatencyUnder time.Duration `yaml:"latency_under"`
}

// Validate implements Section: the latency bound is checked once the
// timeout is settled (ValidateSettled).
func (s *GRPCSection) Validate(v Validator, _ *Common) {
	hostPort(v, "grpc", s.Address)
	if !s.TLS && (s.ServerName != "" || s.CAFile != "" || s.InsecureSkipVerify) {
		v.Errorf("tls", "is off, so server_name, ca_file and insecure_skip_verify mean nothing: set tls: true")
	}
}

// ValidateSettled implements Settled.
func (s *GRPCSection) ValidateSettled(v Validator, c Common) {
	latencyUnder(v, s.Expect.LatencyUnder, c.Timeout)
}

// ReadFiles implements FileReader.
func (s *GRPCSection) ReadFiles(v Validator) { readCAFile(v, s.CAFile) }

// Prober implements Section.
func (s *GRPCSection) Prober(c Common, env Env) (Prober, error) {
	g := &GRPC{ID: c.ID, Address: s.Address, Service: s.Service, LatencyUnder: s.Expect.LatencyUnder, Timeout: c.Timeout, Clock: env.Clock, Dial: env.Dial}
	if s.TLS {
		roots, err := caFile(s.CAFile)
		if err != nil {
			return nil, err
		}
		//nolint:gosec // insecure_skip_verify is the check's own choice
		g.TLS = &tls.Config{ServerName: serverNameOf(s.Address, s.ServerName), RootCAs: roots, InsecureSkipVerify: s.InsecureSkipVerify,
			Time: env.Clock.Now}
	}
	return g, nil
}

// GRPC asks grpc.health.v1.Health/Check about one service; each probe
// opens its own connection, so a server that stopped accepting them is
// seen at once rather than behind a kept connection's reconnect back-off.
type GRPC struct {
	ID           string
	Address      string
	Service      string
	TLS          *tls.Config // nil: plaintext
	LatencyUnder time.Duration
	Timeout      time.Duration
	Clock        clock.Clock
	Dial         DialFunc
}

// Target implements Aimed.
func (g *GRPC) Target() string { return g.Address }

// LatencyBound implements Bounded.
func (g *GRPC) LatencyBound() time.Duration { return g.LatencyUnder }

// Probe implements Prober.
func (g *GRPC) Probe(ctx context.Context) upstate.Result {
	ctx, cancel := clock.WithTimeout(ctx, g.Clock, g.Timeout)
	defer cancel()
	creds := insecure.NewCredentials()
	if g.TLS != nil {
		creds = credentials.NewTLS(g.TLS)
	}
	t := startTiming(g.Clock)
	conn, err := grpc.NewClient("passthrough:///"+g.Address, grpc.WithTransportCredentials(creds),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) { return dial(ctx, g.Dial, addr) }),
		grpc.WithUserAgent("Upstate/1 (+status checks)"), grpc.WithDisableRetry())
	if err != nil {
		return fail(t.result(g.ID), "bad address: "+err.Error())
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: g.Service})
	r := t.result(g.ID)
	if err != nil {
		return fail(r, g.describe(ctx, err))
	}
	switch st := resp.GetStatus(); st {
	case healthpb.HealthCheckResponse_SERVING:
	case healthpb.HealthCheckResponse_NOT_SERVING:
		return fail(r, g.what()+" is NOT_SERVING")
	case healthpb.HealthCheckResponse_SERVICE_UNKNOWN:
		return fail(r, "the health service does not know "+g.what()+" (SERVICE_UNKNOWN)")
	default:
		return fail(r, fmt.Sprintf("the health service cannot tell whether %s is serving (%s)", g.what(), st))
	}
	if g.LatencyUnder > 0 && r.Latency >= g.LatencyUnder {
		r.Outcome = upstate.OutcomeSlow
		r.Error = "slower than " + upstate.FormatLatency(g.LatencyUnder)
	}
	return r
}

// what names the service asked about, for evidence.
func (g *GRPC) what() string {
	if g.Service == "" {
		return "the server"
	}
	return fmt.Sprintf("service %q", g.Service)
}

// describe says why the Check call failed.
func (g *GRPC) describe(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return describeErr(ctx, ctx.Err(), g.Timeout)
	}
	st, ok := status.FromError(err)
	if !ok {
		return describeErr(ctx, err, g.Timeout)
	}
	msg := st.Message()
	switch st.Code() {
	case codes.NotFound:
		return "the health service does not know " + g.what() + " (NotFound)"
	case codes.Unimplemented:
		return "the server does not implement grpc.health.v1.Health (Unimplemented)"
	case codes.DeadlineExceeded:
		return "timed out after " + upstate.FormatLatency(g.Timeout)
	case codes.Unavailable:
		switch {
		case strings.Contains(msg, "connection refused"):
			return "connection refused"
		case strings.Contains(msg, "first record does not look like a TLS handshake"):
			return "TLS handshake failed: the server does not speak TLS"
		case strings.Contains(msg, "certificate"):
			return "TLS: " + strings.TrimPrefix(msg, "connection error: desc = ")
		}
		return "unavailable: " + strings.TrimPrefix(msg, "connection error: desc = ")
	}
	return fmt.Sprintf("Health/Check answered %s: %s", st.Code(), msg)
}
