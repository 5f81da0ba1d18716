package upstate

// CheckInfo is what the operator's console shows of a check beside its
// results: its spec, what it probes, where it is defined, and whether it
// is paused.
type CheckInfo struct {
	Spec CheckSpec
	// Target is what the check probes, in a few words (a URL, host:port,
	// a query); empty for kinds that are told rather than probe.
	Target string
	// Provisioned is true for a check defined in the configuration file,
	// which File names; the console shows it read-only.
	Provisioned bool
	File        string
	// Paused checks are not run and open no incidents.
	Paused bool
}
