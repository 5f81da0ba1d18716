package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// browserKind loads a page in a real headless Chromium and runs steps on
// it: what a person would do (sign in), judged as they would see it.
func browserKind() Kind {
	return Kind{Name: "browser", New: func() Section { return &BrowserSection{} }}
}

// The defaults of a browser check: a real browser is costly, so it runs
// less often than a request, and a page with steps takes longer.
const (
	browserInterval    = 5 * time.Minute
	browserTimeout     = 30 * time.Second
	browserStepTimeout = 10 * time.Second
)

// BrowserSection is a browser check's configuration.
type BrowserSection struct {
	URL   string               `yaml:"url"`
	Steps []BrowserStepSection `yaml:"steps"`
	// StepTimeout is how long a step waits for its element or text.
	StepTimeout time.Duration        `yaml:"step_timeout"`
	Expect      BrowserExpectSection `yaml:"expect"`
}

// BrowserStepSection is one step: exactly one of click, type (with text),
// wait_for and wait_for_text. Selectors are CSS.
type BrowserStepSection struct {
	Click string `yaml:"click"`
	Type  string `yaml:"type"`
	// Text is what a type step types: a secret (a password, from
	// ${ENV}), never logged nor shown, and blanked before a screenshot.
	Text        upstate.Secret `yaml:"text"`
	WaitFor     string         `yaml:"wait_for"`
	WaitForText string         `yaml:"wait_for_text"`
}

// BrowserExpectSection is what a browser check's page must do.
type BrowserExpectSection struct {
	// LatencyUnder bounds the page's load time: slower is degraded.
	LatencyUnder time.Duration `yaml:"latency_under"`
}

// Validate implements Section: it sets the browser's defaults; the rest
// waits for the common fields (ValidateSettled).
func (s *BrowserSection) Validate(_ Validator, c *Common) {
	if c.Interval == 0 {
		c.Interval = browserInterval
	}
	if c.Timeout == 0 {
		c.Timeout = min(browserTimeout, c.Interval)
	}
}

// ValidateSettled implements Settled.
func (s *BrowserSection) ValidateSettled(v Validator, c Common) {
	if s.URL == "" {
		v.Errorf("", "url is required for browser checks: the page to load")
	} else if !upstate.IsHTTPURL(s.URL) {
		v.Errorf("url", "%q is not an http(s) URL", s.URL)
	}
	for i, st := range s.Steps {
		key := fmt.Sprintf("steps[%d]", i)
		switch n := st.actions(); {
		case n == 0:
			v.Errorf(key, "says nothing to do: one of click, type (with text), wait_for or wait_for_text")
		case n > 1:
			v.Errorf(key, "does more than one thing: one of click, type (with text), wait_for or wait_for_text a step")
		case st.Type != "" && st.Text == "":
			v.Errorf(key, "type needs text: what to type (a password from ${ENV})")
		}
		if st.Text != "" && st.Type == "" {
			v.Errorf(key+".text", "is what a type step types; this step does not type")
		}
	}
	if s.StepTimeout < 0 {
		v.Errorf("step_timeout", "must not be negative")
	} else if s.StepTimeout == 0 {
		s.StepTimeout = min(browserStepTimeout, c.Timeout)
	} else if s.StepTimeout > c.Timeout {
		v.Errorf("step_timeout", "%s is longer than the timeout %s", s.StepTimeout, c.Timeout)
	}
	latencyUnder(v, s.Expect.LatencyUnder, c.Timeout)
}

// actions counts what the step says to do.
func (st BrowserStepSection) actions() int {
	n := 0
	for _, s := range []string{st.Click, st.Type, st.WaitFor, st.WaitForText} {
		if s != "" {
			n++
		}
	}
	return n
}

// Prober implements Section. It finds the browser now, so a server
// without one says so when it starts rather than failing the check.
func (s *BrowserSection) Prober(c Common, env Env) (Prober, error) {
	if env.Chromium == nil {
		return nil, errors.New("browser checks need Chromium, and none is set up")
	}
	if _, err := env.Chromium.Find(); err != nil {
		return nil, err
	}
	b := &Browser{ID: c.ID, URL: s.URL, Timeout: c.Timeout, StepTimeout: s.StepTimeout, LatencyUnder: s.Expect.LatencyUnder,
		Chromium: env.Chromium, Clock: env.Clock}
	for _, st := range s.Steps {
		b.Steps = append(b.Steps, BrowserStep{Click: st.Click, Type: st.Type, Text: st.Text, WaitFor: st.WaitFor, WaitForText: st.WaitForText})
	}
	return b, nil
}

// Browser loads a page in the shared Chromium and runs steps on it.
//
// Its deadlines are wall time, on purpose: the browser is real and so are
// its timers (a page loads no faster on a fake or the demo's scaled
// clock). The result's time is read from Clock; its latency is the page's
// load time as the browser measured it (navigation start to the end of
// the load event).
type Browser struct {
	ID  string
	URL string
	// Timeout bounds the whole run: waiting for a tab, loading, the steps
	// and the screenshot of a failure.
	Timeout time.Duration
	// StepTimeout is how long a step waits for its element or text.
	StepTimeout  time.Duration
	LatencyUnder time.Duration // a slower load is "slow", not a failure
	Steps        []BrowserStep
	Chromium     *Chromium
	Clock        clock.Clock
}

// BrowserStep is one thing a browser check does on the page: one of its
// fields is set (Text with Type).
type BrowserStep struct {
	Click       string // a CSS selector: wait until visible, click
	Type        string // a CSS selector: wait until visible, clear, type Text
	Text        upstate.Secret
	WaitFor     string // a CSS selector: wait until visible
	WaitForText string // wait until the page's text contains it
}

// String says what the step does, for evidence: never what it types.
func (st BrowserStep) String() string {
	switch {
	case st.Click != "":
		return "click " + st.Click
	case st.Type != "":
		return "type into " + st.Type
	case st.WaitFor != "":
		return "wait for " + st.WaitFor
	}
	return fmt.Sprintf("wait for text %q", st.WaitForText)
}

// selector is the CSS selector the step looks for, if any.
func (st BrowserStep) selector() string {
	return st.Click + st.Type + st.WaitFor
}

// The tab's viewport, and how big a failure's screenshot of it may be
// (halved when a busy page does not fit).
const (
	viewportWidth, viewportHeight = 1280, 800
	maxScreenshot                 = 300 << 10
)

// pollEvery is how often a step looks again for its element or text:
// often enough to be quick, seldom enough to leave the CPU to others.
const pollEvery = 100 * time.Millisecond

// Probe implements Prober.
func (b *Browser) Probe(ctx context.Context) upstate.Result {
	r := upstate.Result{CheckID: b.ID, At: b.Clock.Now(), Outcome: upstate.OutcomeOK}
	deadline := time.Now().Add(b.Timeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	tab, release, err := b.Chromium.Tab(ctx)
	if err != nil {
		return fail(r, b.scrub(err.Error()))
	}
	defer release()
	// The steps stop short of the deadline, to leave time for the
	// screenshot of a failure.
	reserve := min(max(b.Timeout/5, 500*time.Millisecond), 3*time.Second)
	work, cancelWork := context.WithDeadline(tab, deadline.Add(-reserve))
	defer cancelWork()
	if msg := b.run(tab, work, &r); msg != "" {
		r = fail(r, msg)
		r.Artifact = b.screenshot(tab)
		return r
	}
	if b.LatencyUnder > 0 && r.Latency >= b.LatencyUnder {
		r.Outcome = upstate.OutcomeSlow
		r.Error = "loaded in " + upstate.FormatLatency(r.Latency) + ", slower than " + upstate.FormatLatency(b.LatencyUnder)
	}
	return r
}

// run loads the page and runs the steps, and says what failed ("" when
// nothing did). tab is the open tab's context; work ends before the
// run's deadline.
func (b *Browser) run(tab, work context.Context, r *upstate.Result) string {
	start := time.Now()
	resp, err := chromedp.Run(work, chromedp.NavigateResponse(b.URL))
	if err != nil {
		return b.scrub(b.describe(tab, "loading the page", err))
	}
	r.Latency = time.Since(start)
	if ms, err := chromedp.Run(work, chromedp.Evaluate[float64](loadTimeJS)); err == nil && ms > 0 {
		r.Latency = time.Duration(ms * float64(time.Millisecond))
	}
	if resp != nil {
		r.StatusCode = int(resp.Status)
		if resp.Status >= 400 {
			return fmt.Sprintf("status %d %s", resp.Status, http.StatusText(int(resp.Status)))
		}
	}
	for i, st := range b.Steps {
		if msg := b.step(tab, work, st); msg != "" {
			// What the step says comes from the configuration (and never
			// what it types); what went wrong comes from the browser.
			return fmt.Sprintf("step %d (%s): %s", i+1, st, b.scrub(msg))
		}
	}
	return ""
}

// loadTimeJS is the page's load time in milliseconds, from the browser's
// Navigation Timing (-1 before the load event has ended).
const loadTimeJS = `(() => { const n = performance.getEntriesByType("navigation")[0]; return n && n.loadEventEnd > 0 ? n.loadEventEnd - n.startTime : -1; })()`

// step runs one step and says what went wrong, if anything.
func (b *Browser) step(tab, work context.Context, st BrowserStep) string {
	ctx, cancel := context.WithTimeout(work, b.StepTimeout)
	defer cancel()
	every := chromedp.RetryInterval(pollEvery)
	var err error
	switch {
	case st.Click != "":
		err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(st.Click), every))
	case st.Type != "":
		_, err = chromedp.Run(ctx, chromedp.QueryAfter(chromedp.CSS(st.Type), func(ctx context.Context, t *chromedp.Target, nodes []*chromedp.Node) (chromedp.Void, error) {
			n := nodes[0]
			if n.NodeName == "INPUT" && strings.EqualFold(n.AttributeValue("type"), "file") {
				// Typing into a file input picks a file of this server's
				// to upload: never.
				return chromedp.Void{}, errFileInput
			}
			if err := clearValue(ctx, t, n); err != nil {
				return chromedp.Void{}, err
			}
			return chromedp.KeyEventNode(n, st.Text.Reveal())(ctx, t)
		}, chromedp.NodeVisible, every))
	case st.WaitFor != "":
		err = chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(st.WaitFor), every))
	default:
		err = waitForText(ctx, st.WaitForText)
	}
	if err == nil {
		return ""
	}
	if errors.Is(err, errFileInput) {
		return "matches a file input: browser checks upload nothing"
	}
	if ctx.Err() != nil && work.Err() == nil {
		// The step's own wait ran out: say whether what it waited for is
		// there at all.
		if st.WaitForText != "" {
			return "the text is not on the page after " + b.StepTimeout.String()
		}
		if n, ok := b.count(tab, st.selector()); ok && n > 0 {
			return fmt.Sprintf("%s matches %d element(s), none visible after %s", st.selector(), n, b.StepTimeout)
		}
		return "no element matches after " + b.StepTimeout.String()
	}
	return b.describe(tab, "", err)
}

var errFileInput = errors.New("a file input")

// clearValue empties a field before it is typed into, as a person would.
func clearValue(ctx context.Context, t *chromedp.Target, n *chromedp.Node) error {
	obj, err := cdp.Call(ctx, t, dom.ResolveNode, dom.ResolveNodeParams{NodeID: n.NodeID})
	if err != nil {
		return err
	}
	defer cdp.Call(ctx, t, runtime.ReleaseObject, runtime.ReleaseObjectParams{ObjectID: obj.Object.ObjectID})
	_, err = cdp.Call(ctx, t, runtime.CallFunctionOn, runtime.CallFunctionOnParams{ObjectID: obj.Object.ObjectID,
		FunctionDeclaration: `function() { if ("value" in this) this.value = ""; }`})
	return err
}

// waitForText waits until the page's text contains text, looking again
// every pollEvery; a page that is navigating meanwhile is looked at again.
func waitForText(ctx context.Context, text string) error {
	arg, _ := json.Marshal(text)
	expr := "!!document.body && document.body.innerText.includes(" + string(arg) + ")"
	for {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return nil
		}
		if err := chromedp.Do(ctx, chromedp.Sleep(pollEvery)); err != nil {
			return err
		}
	}
}

// count says how many elements match sel now, asking briefly.
func (b *Browser) count(tab context.Context, sel string) (int, bool) {
	ctx, cancel := context.WithTimeout(tab, time.Second)
	defer cancel()
	arg, _ := json.Marshal(sel)
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll("+string(arg)+").length"))
	return n, err == nil
}

// describe says what an error of the browser means, in plain words.
func (b *Browser) describe(tab context.Context, doing string, err error) string {
	prefix := ""
	if doing != "" {
		prefix = doing + ": "
	}
	var le *chromedp.LoadError
	var ce *cdproto.Error
	switch {
	case b.Chromium.died():
		return prefix + "Chromium exited during the check (it is started again for the next one)"
	case errors.Is(err, context.DeadlineExceeded) || tab.Err() != nil:
		return prefix + "the check's timeout (" + b.Timeout.String() + ") ran out"
	case errors.As(err, &le):
		return prefix + le.ErrorText
	case errors.As(err, &ce):
		return prefix + "the browser refused: " + ce.Message
	}
	return prefix + err.Error()
}

// scrub hides the text of every type step in what the browser said:
// nothing the check types may reach evidence, logs or pages.
func (b *Browser) scrub(msg string) string {
	for _, st := range b.Steps {
		if s := st.Text.Reveal(); s != "" {
			msg = strings.ReplaceAll(msg, s, st.Text.String())
		}
	}
	return msg
}

// screenshot captures the viewport as it failed, after blanking the
// fields the steps typed into; nil when it cannot be had within the run
// or within maxScreenshot.
func (b *Browser) screenshot(tab context.Context) *upstate.Artifact {
	if tab.Err() != nil {
		return nil
	}
	var sels []string
	for _, st := range b.Steps {
		if st.Type != "" {
			sels = append(sels, st.Type)
		}
	}
	if len(sels) > 0 {
		arg, _ := json.Marshal(sels)
		blank := `(sels => { for (const s of sels) { try { document.querySelectorAll(s).forEach(e => { if ("value" in e) e.value = ""; }); } catch (e) {} } })(` + string(arg) + `)`
		if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](blank)); err != nil {
			return nil // a typed secret could show
		}
	}
	png, err := chromedp.Run(tab, capture)
	if err != nil || len(png) > maxScreenshot {
		return nil
	}
	return &upstate.Artifact{ContentType: "image/png", Data: png, Size: len(png)}
}

// capture is a PNG of the viewport as it is, or of it at half the size
// when a busy page makes that larger than maxScreenshot.
func capture(ctx context.Context, t *chromedp.Target) ([]byte, error) {
	shot := func(clip *page.Viewport) ([]byte, error) {
		res, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng, Clip: clip})
		return res.Data, err
	}
	png, err := shot(nil)
	if err != nil || len(png) <= maxScreenshot {
		return png, err
	}
	m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
	if err != nil || m.CSSVisualViewport == nil {
		return nil, err
	}
	vv := m.CSSVisualViewport
	return shot(&page.Viewport{X: vv.PageX, Y: vv.PageY, Width: vv.ClientWidth, Height: vv.ClientHeight, Scale: 0.5})
}
