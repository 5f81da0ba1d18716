package adminapi

import (
	"context"
	"net/http"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// Outbox shows what the outbox holds and tries channels (notify.Desk).
type Outbox interface {
	Channels(ctx context.Context) ([]upstate.ChannelStatus, []upstate.Message, error)
	Test(ctx context.Context, id string) error
	Retry(ctx context.Context, id string) error
}

// OnCall shows who is on call and takes overrides (oncall.Roster).
type OnCall interface {
	OnCallNow(ctx context.Context) []upstate.ScheduleView
	Overrides(ctx context.Context) ([]upstate.OnCallOverride, error)
	AddOverride(ctx context.Context, schedule, person string, from, until time.Time, actor string) (upstate.OnCallOverride, error)
	RemoveOverride(ctx context.Context, id string) error
}

// Silences mutes notifications for a while (notify.Silences).
type Silences interface {
	List(ctx context.Context) ([]upstate.Silence, error)
	Add(ctx context.Context, matchers []string, startsAt, endsAt time.Time, comment, actor string) (upstate.Silence, error)
	Remove(ctx context.Context, id string) error
}

// Subscribers lists and removes subscribers (subscribe.Service).
type Subscribers interface {
	List(ctx context.Context) ([]upstate.Subscriber, error)
	Remove(ctx context.Context, id string) error
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
	chs, failed, err := s.opts.Outbox.Channels(r.Context())
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
	err := s.opts.Outbox.Test(r.Context(), r.PathValue("id"))
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
	s.onID(w, r, s.opts.Outbox.Retry)
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
	for _, v := range s.opts.OnCall.OnCallNow(r.Context()) {
		sc := schedule{ID: v.ID, Name: v.Name, TimeZone: v.Zone, Shifts: []shift{}}
		for _, sh := range v.Shifts {
			sc.Shifts = append(sc.Shifts, shift{sh.Person, sh.Name, sh.From.UTC(), sh.Until.UTC(), sh.Override})
		}
		out = append(out, sc)
	}
	respond.JSON(w, http.StatusOK, map[string]any{"schedules": out})
}

type silenceJSON struct {
	ID        string    `json:"id"`
	Matchers  []string  `json:"matchers"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedBy string    `json:"created_by"`
	Comment   string    `json:"comment"`
	CreatedAt time.Time `json:"created_at"`
}

func silenceOut(s upstate.Silence) silenceJSON {
	out := silenceJSON{ID: s.ID, Matchers: []string{}, StartsAt: s.StartsAt.UTC(), EndsAt: s.EndsAt.UTC(), CreatedBy: s.CreatedBy, Comment: s.Comment, CreatedAt: s.CreatedAt.UTC()}
	for _, m := range s.Matchers {
		out.Matchers = append(out.Matchers, m.String())
	}
	return out
}

func (s *Server) listSilences(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	list(s, w, r, "silences", s.opts.Silences.List, silenceOut)
}

func (s *Server) deleteSilence(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	s.onID(w, r, s.opts.Silences.Remove)
}

func (s *Server) createSilence(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	var b struct {
		Matchers []string  `json:"matchers"`
		StartsAt time.Time `json:"starts_at"`
		EndsAt   time.Time `json:"ends_at"`
		Duration string    `json:"duration"`
		Comment  string    `json:"comment"`
	}
	if err := respond.Decode(w, r, &b); err != nil {
		respond.Error(w, err)
		return
	}
	if b.Duration != "" {
		d, err := time.ParseDuration(b.Duration)
		if err != nil || d <= 0 || !b.EndsAt.IsZero() {
			respond.Error(w, upstate.Errorf(upstate.EINVALID, "duration: %q is not a positive duration (e.g. 2h), or ends_at was given too", b.Duration))
			return
		}
		start := b.StartsAt
		if start.IsZero() {
			start = s.opts.Now()
		}
		b.EndsAt = start.Add(d)
	}
	sl, err := s.opts.Silences.Add(r.Context(), b.Matchers, b.StartsAt, b.EndsAt, b.Comment, p.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/silences/"+sl.ID)
	respond.JSON(w, http.StatusCreated, map[string]any{"silence": silenceOut(sl)})
}

type subscriberJSON struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Address     string     `json:"address"`
	Components  []string   `json:"components"`
	CreatedAt   time.Time  `json:"created_at"`
	ConfirmedAt *time.Time `json:"confirmed_at"`
}

func subscriberOut(x upstate.Subscriber) subscriberJSON {
	return subscriberJSON{x.ID, x.Kind, x.Address, orEmpty(x.Components), x.CreatedAt.UTC(), x.ConfirmedAt}
}

func (s *Server) listSubscribers(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	list(s, w, r, "subscribers", s.opts.Subscribers.List, subscriberOut)
}

func (s *Server) removeSubscriber(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	s.onID(w, r, s.opts.Subscribers.Remove)
}

type overrideJSON struct {
	ID        string    `json:"id"`
	Schedule  string    `json:"schedule"`
	Person    string    `json:"person"`
	From      time.Time `json:"from"`
	Until     time.Time `json:"until"`
	CreatedBy string    `json:"created_by"`
}

func overrideOut(o upstate.OnCallOverride) overrideJSON {
	return overrideJSON{o.ID, o.Schedule, o.Person, o.From.UTC(), o.Until.UTC(), o.CreatedBy}
}

func (s *Server) listOverrides(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	list(s, w, r, "overrides", s.opts.OnCall.Overrides, overrideOut)
}

func (s *Server) removeOverride(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	s.onID(w, r, s.opts.OnCall.RemoveOverride)
}

func (s *Server) addOverride(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	var b struct {
		Schedule string    `json:"schedule"`
		Person   string    `json:"person"`
		From     time.Time `json:"from"`
		Until    time.Time `json:"until"`
	}
	if err := respond.Decode(w, r, &b); err != nil {
		respond.Error(w, err)
		return
	}
	if b.From.IsZero() {
		b.From = s.opts.Now()
	}
	o, err := s.opts.OnCall.AddOverride(r.Context(), b.Schedule, b.Person, b.From, b.Until, p.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusCreated, map[string]any{"override": overrideOut(o)})
}
