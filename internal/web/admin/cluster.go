package admin

import (
	"fmt"
	"net/http"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/cluster"
)

// clusterShown is how many of an instance's check ids the cluster page
// lists; GET /api/v1/cluster?instance= has them all.
const clusterShown = 50

// clusterView is the cluster page's: the instances as this one sees them
// and the timings in words.
type clusterView struct {
	Clustered bool
	Self      string
	Leader    string
	Fenced    bool
	At        time.Time
	// Beat, Gone, Fence and Grace are the timings as read: "2 s".
	Beat, Gone, Fence, Grace, Lease string
	Instances                       []clusterRow
}

// clusterRow is one instance.
type clusterRow struct {
	Name, ID, Addr, Version string
	Self, Leader            bool
	// State is live, gone or fenced (this instance, cut off from its
	// heartbeat: it runs nothing).
	State     string
	Started   time.Time
	Heartbeat time.Time
	Ago       string // "3 s ago", by the database's clock
	Checks    int    // as it reported
	Lag       string
	// Runs are the first clusterShown ids it runs by this view, More how
	// many more, Total all of them.
	Runs        []string
	More, Total int
}

func (s *Server) registerCluster(mux *http.ServeMux) {
	// read, as the checks pages: whoever is on call asks who runs a
	// check that went quiet.
	mux.HandleFunc("GET /admin/cluster", s.authed(upstate.ScopeRead, s.clusterPage))
}

// seconds says a timing the way the page reads it: "10 s", "2.5 s".
func seconds(d time.Duration) string {
	if d%time.Second == 0 || d >= time.Minute {
		return upstate.FormatDuration(d, upstate.DurationWindow)
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// lag says a schedule's start lag, reported in whole milliseconds.
func lag(d time.Duration) string {
	if d < time.Millisecond {
		return "under 1 ms"
	}
	return upstate.FormatLatency(d)
}

func (s *Server) clusterPage(w http.ResponseWriter, _ *http.Request, p upstate.Principal) {
	v := s.base(p, "Cluster")
	var st cluster.Status
	var c clusterView
	if s.opts.Cluster != nil {
		st, c.Clustered = s.opts.Cluster()
	}
	if c.Clustered {
		t := cluster.TimingsFor(st.Lease)
		c.Self, c.Leader, c.Fenced, c.At = st.Self, st.Leader, st.Fenced, st.At
		// An instance is gone once its heartbeat is older than the lease
		// less one beat (cluster.Node's read).
		c.Beat, c.Gone, c.Fence, c.Grace, c.Lease = seconds(st.Beat), seconds(st.Lease-st.Beat), seconds(t.Fence), seconds(st.Grace), seconds(st.Lease)
		for _, in := range st.Instances {
			row := clusterRow{Name: in.Name, ID: in.ID, Addr: in.Addr, Version: in.Version, Self: in.Name == st.Self, Leader: in.Leader,
				Started: in.Started, Heartbeat: in.Heartbeat, Ago: upstate.FormatDuration(max(in.Age, 0), upstate.DurationWindow) + " ago",
				Checks: in.Checks, Lag: lag(in.Lag), Total: len(in.Runs)}
			switch {
			case row.Self && st.Fenced:
				row.State = "fenced"
			case in.Live:
				row.State = "live"
			default:
				row.State = "gone"
			}
			row.Runs = in.Runs[:min(len(in.Runs), clusterShown)]
			row.More = len(in.Runs) - len(row.Runs)
			c.Instances = append(c.Instances, row)
		}
	}
	v.Cluster = c
	s.render(w, http.StatusOK, "cluster", v)
}
