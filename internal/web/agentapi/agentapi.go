// Package agentapi is the probe agents' side of the HTTP API: an agent
// (upstate probe) reads the checks of its region and reports their
// results. Its token carries one scope, agent:REGION, and this is all it
// can reach; every other route refuses it for want of a scope.
//
// Reports are machines' observations, like heartbeats and alerts: they
// are not in the audit log (an agent reports every few seconds).
package agentapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// Auth identifies the caller by its API token.
type Auth interface {
	FromToken(ctx context.Context, secret string) (upstate.Principal, error)
}

// Checks are the checks agents run and the results they report.
type Checks interface {
	// AgentChecks are the checks of region.
	AgentChecks(region string) (upstate.AgentChecks, error)
	// AgentResults takes region's results, each once by its id. refused
	// names the checks of results that are not region's: then nothing is
	// taken.
	AgentResults(ctx context.Context, region string, rs []upstate.AgentResult) (receipt upstate.AgentReceipt, refused []string, err error)
}

// Options configure the agent API.
type Options struct {
	Auth   Auth
	Checks Checks
	Logger *slog.Logger
}

// Server serves /api/v1/agent/.
type Server struct{ opts Options }

// New returns the agent API.
func New(opts Options) (*Server, error) {
	if opts.Auth == nil || opts.Checks == nil {
		return nil, fmt.Errorf("agentapi: Options.Auth and Checks are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{opts: opts}, nil
}

// maxBody bounds a report (the server's body limit for every route
// without its own): agents keep a report under half of it.
const maxBody = respond.MaxBody

// Register adds the routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/agent/checks", s.agent(s.checks))
	mux.HandleFunc("POST /api/v1/agent/results", s.agent(s.results))
}

// agent authenticates a probe agent: a bearer token whose one scope is
// agent:REGION.
func (s *Server) agent(h func(w http.ResponseWriter, r *http.Request, region string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			respond.Error(w, upstate.Errorf(upstate.EUNAUTHORIZED, "send the agent's token as \"Authorization: Bearer ups_...\""))
			return
		}
		p, err := s.opts.Auth.FromToken(r.Context(), strings.TrimSpace(tok))
		if err != nil {
			respond.Error(w, err)
			return
		}
		region, ok := p.AgentRegion()
		if !ok {
			respond.Error(w, upstate.Errorf(upstate.EFORBIDDEN, "this route is for probe agents: their token carries the one scope agent:REGION"))
			return
		}
		h(w, r, region)
	}
}

func (s *Server) checks(w http.ResponseWriter, _ *http.Request, region string) {
	list, err := s.opts.Checks.AgentChecks(region)
	if err != nil {
		respond.Error(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store") // definitions carry the checks' secrets
	respond.JSON(w, http.StatusOK, list)
}

func (s *Server) results(w http.ResponseWriter, r *http.Request, region string) {
	var b struct {
		Results []upstate.AgentResult `json:"results"`
	}
	if err := respond.DecodeLimit(w, r, &b, maxBody); err != nil {
		respond.Error(w, err)
		return
	}
	if len(b.Results) > upstate.MaxAgentBatch {
		respond.Error(w, upstate.Errorf(upstate.EINVALID, "results: %d in one report; send at most %d", len(b.Results), upstate.MaxAgentBatch))
		return
	}
	for i, res := range b.Results {
		if err := res.Check(); err != nil {
			respond.Error(w, upstate.Errorf(upstate.EINVALID, "results[%d]: %v", i, err))
			return
		}
	}
	receipt, refused, err := s.opts.Checks.AgentResults(r.Context(), region, b.Results)
	if err != nil {
		respond.Error(w, err)
		return
	}
	if len(refused) > 0 {
		slices.Sort(refused)
		refused = slices.Compact(refused)
		respond.JSON(w, http.StatusForbidden, map[string]any{
			"error": map[string]any{"code": upstate.EFORBIDDEN, "request_id": respond.RequestID(w),
				"message": fmt.Sprintf("region %s does not probe %s: nothing in this report was taken", region, strings.Join(refused, ", "))},
			"refused": refused,
		})
		return
	}
	respond.JSON(w, http.StatusOK, receipt)
}
