package upstate

import "time"

// ChannelStatus is one notification channel's outbox at a glance.
type ChannelStatus struct {
	ID, Kind              string
	Pending, Failed, Sent int
}

// ScheduleView is an on-call schedule as people look at it.
type ScheduleView struct {
	ID, Name, Zone string
	// Shifts are the coming week's, the first being now's.
	Shifts []ShiftView
	// People are who may be put on call on it: id → name, in order.
	People [][2]string
}

// ShiftView is one stretch of someone on call.
type ShiftView struct {
	Person, Name string
	From, Until  time.Time
	Override     bool
}
