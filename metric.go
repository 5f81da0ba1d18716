package upstate

import "time"

// Point is one number of a series at a time.
type Point struct {
	At    time.Time
	Value float64
}

// Sample is a number pushed to Upstate: a series (name and labels) and
// its value at a time.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
	At     time.Time
}
