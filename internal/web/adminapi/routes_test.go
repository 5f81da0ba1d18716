package adminapi

import (
	"os"
	"strings"
)

// registerSource is the text of Register, read from adminapi.go.
var registerSource = func() string {
	b, err := os.ReadFile("adminapi.go")
	if err != nil {
		return ""
	}
	s := string(b)
	start := strings.Index(s, "func (s *Server) Register(")
	end := strings.Index(s[start:], "\n}\n")
	return s[start : start+end]
}()
