package check

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

var metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Limits on one pushed series: how many labels, and how long names and
// values may be.
const (
	MaxLabels      = 32
	MaxNameLen     = 200
	MaxLabelValLen = 1024
)

// ValidSample says what is wrong with a pushed sample, if anything.
func ValidSample(s upstate.Sample) error {
	if len(s.Name) > MaxNameLen || !metricName.MatchString(s.Name) {
		return fmt.Errorf("name %.100q is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*, at most %d characters)", s.Name, MaxNameLen)
	}
	if len(s.Labels) > MaxLabels {
		return fmt.Errorf("%s has %d labels: at most %d", s.Name, len(s.Labels), MaxLabels)
	}
	for k, v := range s.Labels {
		if len(k) > MaxNameLen || !labelName.MatchString(k) {
			return fmt.Errorf("label %.100q is not a label name", k)
		}
		if len(v) > MaxLabelValLen {
			return fmt.Errorf("label %s is %d bytes long: at most %d", k, len(v), MaxLabelValLen)
		}
	}
	if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
		return fmt.Errorf("value of %s is not a finite number", s.Name)
	}
	return nil
}

// SeriesKey names a series by its name and labels, the way Prometheus
// writes it: name{a="x",b="y"} with labels sorted.
func SeriesKey(name string, labels map[string]string) string {
	if len(labels) == 0 {
		return name
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", k, labels[k])
	}
	b.WriteByte('}')
	return b.String()
}

// ParsePromText reads the Prometheus text exposition format: one sample a
// line, name{labels} value [timestamp in ms]; comments and blank lines
// are skipped. Samples without a timestamp are at now.
func ParsePromText(body []byte, now time.Time) ([]upstate.Sample, error) {
	var out []upstate.Sample
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parsePromLine(line, now)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

func parsePromLine(line string, now time.Time) (upstate.Sample, error) {
	s := upstate.Sample{At: now}
	rest := line
	if i := strings.IndexAny(line, "{ \t"); i >= 0 {
		s.Name, rest = line[:i], line[i:]
	} else {
		return s, fmt.Errorf("%q has no value", line)
	}
	if strings.HasPrefix(rest, "{") {
		end := strings.Index(rest, "}")
		if end < 0 {
			return s, fmt.Errorf("labels of %s are not closed with }", s.Name)
		}
		labels, err := parseLabels(rest[1:end])
		if err != nil {
			return s, fmt.Errorf("labels of %s: %v", s.Name, err)
		}
		s.Labels, rest = labels, rest[end+1:]
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 || len(fields) > 2 {
		return s, fmt.Errorf("%s: want a value and an optional timestamp", s.Name)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, fmt.Errorf("%s: %q is not a number", s.Name, fields[0])
	}
	s.Value = v
	if len(fields) == 2 {
		ms, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			return s, fmt.Errorf("%s: %q is not a timestamp in milliseconds", s.Name, fields[1])
		}
		s.At = time.UnixMilli(ms).UTC()
	}
	return s, ValidSample(s)
}

func parseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	for strings.TrimSpace(s) != "" {
		s = strings.TrimLeft(s, " ,")
		eq := strings.Index(s, "=")
		if eq < 0 {
			return nil, fmt.Errorf("%q is not name=\"value\"", s)
		}
		name := strings.TrimSpace(s[:eq])
		s = strings.TrimSpace(s[eq+1:])
		if !strings.HasPrefix(s, `"`) {
			return nil, fmt.Errorf("the value of %s is not quoted", name)
		}
		val, err := strconv.QuotedPrefix(s)
		if err != nil {
			return nil, fmt.Errorf("the value of %s is not a quoted string", name)
		}
		out[name], _ = strconv.Unquote(val)
		s = s[len(val):]
	}
	return out, nil
}
