// Package upstate holds the shared nouns of Upstate: components and their
// statuses, checks and their results, conditions, incidents and their
// timelines, and the domain error codes. It is data and pure methods only:
// standard library, no I/O, no goroutines.
package upstate
