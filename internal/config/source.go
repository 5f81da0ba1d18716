package config

import (
	"bytes"
	"compress/flate"
	"io"
)

// source is the file's text, kept compressed: it is read again only when
// the console's items are merged or the file exported, while a file of
// 100,000 checks is 11 MB held for the server's life (some 1 MB
// compressed).
type source struct {
	packed []byte
	n      int // the text's length
}

func packSource(text []byte) source {
	if len(text) == 0 {
		return source{}
	}
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed) // the level is valid: no error
	_, _ = w.Write(text)                         // to a bytes.Buffer: no error
	_ = w.Close()
	return source{packed: bytes.Clone(b.Bytes()), n: len(text)}
}

// text is the file's text again.
func (s source) text() []byte {
	if s.n == 0 {
		return nil
	}
	out := make([]byte, 0, s.n)
	b := bytes.NewBuffer(out)
	if _, err := io.Copy(b, flate.NewReader(bytes.NewReader(s.packed))); err != nil {
		// Written by packSource in this process: it reads back whole.
		panic("config: the file's text kept in memory is unreadable: " + err.Error())
	}
	return b.Bytes()
}

// Source is the file's text as it was read: what the console's items are
// merged into (WithConsole) and exported with (Export), without reading
// the file again; nil for a configuration not read from a file.
func (c *Config) Source() []byte { return c.source.text() }

// FromFile reports whether the configuration was read from a file's text
// (Source is not empty).
func (c *Config) FromFile() bool { return c.source.n > 0 }
