package adminapi

import (
	"context"
	"net/http"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/notify"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// Notifications shows the outbox and tries channels.
type Notifications interface {
	Notifications(ctx context.Context) ([]notify.ChannelStatus, []upstate.Message, error)
	TestChannel(ctx context.Context, id string) error
	RetryMessage(ctx context.Context, id string) error
	OnCallNow(ctx context.Context) []notify.ScheduleView
}

type channelJSON struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Pending int    `json:"pending"`
	Failed  int    `json:"failed"`
	Sent    int    `json:"sent"`
}

type messageJSON struct {
	ID         string            `json:"id"`
	Channel    string            `json:"channel"`
	Event      upstate.EventType `json:"event"`
	IncidentID string            `json:"incident_id"`
	Incident   string            `json:"incident_name"`
	State      string            `json:"state"`
	Attempts   int               `json:"attempts"`
	LastError  string            `json:"last_error"`
	CreatedAt  time.Time         `json:"created_at"`
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	chs, failed, err := s.opts.Notifications.Notifications(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := map[string]any{"channels": []channelJSON{}, "failed": []messageJSON{}}
	cs := []channelJSON{}
	for _, c := range chs {
		cs = append(cs, channelJSON{c.ID, c.Kind, c.Pending, c.Failed, c.Sent})
	}
	ms := []messageJSON{}
	for _, m := range failed {
		ms = append(ms, messageJSON{ID: m.ID, Channel: m.Channel, Event: m.Event.Type, IncidentID: m.Event.Incident.ID, Incident: m.Event.Incident.Name,
			State: string(m.State), Attempts: m.Attempts, LastError: m.LastError, CreatedAt: m.CreatedAt.UTC()})
	}
	out["channels"], out["failed"] = cs, ms
	respond.JSON(w, http.StatusOK, out)
}

// testChannel sends a sample now; a receiver's refusal is a 502 that
// quotes its answer.
func (s *Server) testChannel(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	err := s.opts.Notifications.TestChannel(r.Context(), r.PathValue("id"))
	switch {
	case err == nil:
		respond.JSON(w, http.StatusOK, map[string]any{"sent": true})
	case upstate.ErrorCode(err) == upstate.EINVALID:
		respond.Error(w, err, http.StatusBadGateway)
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) retryMessage(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	if err := s.opts.Notifications.RetryMessage(r.Context(), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) onCall(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	type shift struct {
		Person   string    `json:"person"`
		Name     string    `json:"name"`
		From     time.Time `json:"from"`
		Until    time.Time `json:"until"`
		Override bool      `json:"override"`
	}
	type schedule struct {
		ID       string  `json:"id"`
		Name     string  `json:"name"`
		TimeZone string  `json:"time_zone"`
		Shifts   []shift `json:"shifts"`
	}
	out := []schedule{}
	for _, v := range s.opts.Notifications.OnCallNow(r.Context()) {
		sc := schedule{ID: v.ID, Name: v.Name, TimeZone: v.Zone, Shifts: []shift{}}
		for _, sh := range v.Shifts {
			sc.Shifts = append(sc.Shifts, shift{sh.Person, sh.Name, sh.From.UTC(), sh.Until.UTC(), sh.Override})
		}
		out = append(out, sc)
	}
	respond.JSON(w, http.StatusOK, map[string]any{"schedules": out})
}
