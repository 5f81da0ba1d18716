package admin

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/upstatehq/upstate"
)

// Artifacts reads what failing checks saw: browser checks' screenshots,
// kept for the last few failures of each check.
type Artifacts interface {
	GetArtifact(ctx context.Context, id string) (upstate.Artifact, error)
	ListArtifacts(ctx context.Context, f upstate.ArtifactFilter) ([]upstate.Artifact, error)
}

// screenshotsShown bounds the screenshots an incident's page lists.
const screenshotsShown = 10

// screenshots are what browser checks on the incident's components saw
// while it lasted.
func (s *Server) screenshots(ctx context.Context, in *upstate.Incident) ([]upstate.Artifact, error) {
	if s.opts.Artifacts == nil || len(in.Components) == 0 {
		return nil, nil
	}
	f := upstate.ArtifactFilter{Components: in.Components, Since: in.StartedAt, Limit: screenshotsShown}
	if in.ResolvedAt != nil {
		f.Until = in.ResolvedAt.Add(1) // a failure at the resolution's instant is the incident's
	}
	return s.opts.Artifacts.ListArtifacts(ctx, f)
}

// screenshot serves one screenshot by id.
func (s *Server) screenshot(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	a, err := s.opts.Artifacts.GetArtifact(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	serveArtifact(w, a)
}

// latestScreenshot serves a check's newest screenshot.
func (s *Server) latestScreenshot(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	id := r.PathValue("id")
	list, err := s.opts.Artifacts.ListArtifacts(r.Context(), upstate.ArtifactFilter{CheckID: id, Limit: 1})
	if err == nil && len(list) == 0 {
		err = upstate.Errorf(upstate.ENOTFOUND, "check %q has no screenshot (a browser check keeps one for each of its last few failures)", id)
	}
	var a upstate.Artifact
	if err == nil {
		a, err = s.opts.Artifacts.GetArtifact(r.Context(), list[0].ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	serveArtifact(w, a)
}

// serveArtifact writes a screenshot for this person only: never kept by a
// proxy or the browser's cache (it may show what only people signed in
// may see), never read as anything but an image.
func serveArtifact(w http.ResponseWriter, a upstate.Artifact) {
	h := w.Header()
	ct := a.ContentType
	if ct != "image/png" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(a.Data)))
	h.Set("Cache-Control", "private, no-store")
	name := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, a.CheckID)
	h.Set("Content-Disposition", `inline; filename="`+name+"-"+a.At.UTC().Format("20060102-150405")+`.png"`)
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.Data)
}
