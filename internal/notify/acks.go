package notify

import (
	"context"
	"errors"

	"github.com/upstatehq/upstate"
)

// AckOptions configure Acks.
type AckOptions struct {
	// Key signs the links (the one Links in pages are made with).
	Key []byte
	// People names the person a link is for (oncall.Roster).
	People interface {
		Name(person string) (string, bool)
	}
	// Incidents acknowledges (the incident engine) and reads incidents.
	Incidents interface {
		Acknowledge(ctx context.Context, id, actor string) (*upstate.Incident, error)
	}
	Reads interface {
		GetIncident(ctx context.Context, id string) (*upstate.Incident, error)
	}
}

// Acks acknowledges incidents from the signed links in pages, as the
// person each link was made for.
type Acks struct {
	opts AckOptions
}

// NewAcks returns the service.
func NewAcks(opts AckOptions) (*Acks, error) {
	if opts.Key == nil || opts.People == nil || opts.Incidents == nil || opts.Reads == nil {
		return nil, errors.New("notify: AckOptions.Key, People, Incidents and Reads are required")
	}
	return &Acks{opts: opts}, nil
}

// check verifies a link and returns the name of the person it was made for.
func (a *Acks) check(incidentID, person, sig string) (string, error) {
	links := Links{Key: a.opts.Key}
	if !links.Valid(incidentID, person, sig) {
		return "", upstate.Errorf(upstate.EFORBIDDEN, "this acknowledgement link is not valid: use the one in the page you received")
	}
	if name, ok := a.opts.People.Name(person); ok {
		return name, nil
	}
	return person, nil
}

// AckByLink acknowledges an incident from a signed link in a page.
func (a *Acks) AckByLink(ctx context.Context, incidentID, person, sig string) (*upstate.Incident, string, error) {
	name, err := a.check(incidentID, person, sig)
	if err != nil {
		return nil, "", err
	}
	in, err := a.opts.Incidents.Acknowledge(ctx, incidentID, name)
	return in, name, err
}

// AckLinkTarget shows what a link would acknowledge, without doing it.
func (a *Acks) AckLinkTarget(ctx context.Context, incidentID, person, sig string) (*upstate.Incident, string, error) {
	name, err := a.check(incidentID, person, sig)
	if err != nil {
		return nil, "", err
	}
	in, err := a.opts.Reads.GetIncident(ctx, incidentID)
	return in, name, err
}
