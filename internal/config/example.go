package config

import _ "embed"

// Example is the commented configuration `upstate init` writes; it must
// always load (a test keeps it so).
//
//go:embed example.yaml
var Example string
