package check

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ChromiumOptions configure the shared browser.
type ChromiumOptions struct {
	// Path is the browser to run (server.chromium); empty to look for one:
	// $UPSTATE_CHROMIUM, then ChromiumNames on PATH.
	Path string
	// Tabs is how many browser checks may use it at once (default 2).
	Tabs   int
	Logger *slog.Logger
	// Getenv and LookPath find the browser; default os.Getenv and
	// exec.LookPath.
	Getenv   func(string) string
	LookPath func(string) (string, error)
}

// ChromiumNames are the commands a browser is looked for as on PATH, in
// order: Debian's and Ubuntu's Chromium, then Google Chrome.
func ChromiumNames() []string {
	return []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
}

// Chromium is the one headless browser every browser check shares. It is
// started by the first check that needs it, started again by the next one
// after it has died, and stopped by Close. At most Tabs checks use it at
// once, each in a tab of a browser context of its own (no cookies,
// storage or cache shared between runs or kept after one), with downloads
// denied and dialogs answered; its profile is a temporary directory,
// removed when the process ends.
type Chromium struct {
	opts ChromiumOptions
	tabs chan struct{} // a token per tab in use
	// starting is held while the process is started or stopped, so that
	// checks waiting for it can give up when their time is up.
	starting chan struct{}

	mu sync.Mutex // guards what follows
	// browser is the running browser's context: chromedp keeps a browser
	// in a context, and the process lives as long as it, so it is held
	// here, owned by Chromium and ended by stop (chromedp ends it too when
	// the process dies).
	browser context.Context
	stop    func() // ends browser and waits for the process to go
	closed  bool
	starts  int
}

// NewChromium returns the shared browser; nothing runs until a check
// needs it.
func NewChromium(opts ChromiumOptions) *Chromium {
	if opts.Tabs <= 0 {
		opts.Tabs = 2
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.LookPath == nil {
		opts.LookPath = exec.LookPath
	}
	return &Chromium{opts: opts, tabs: make(chan struct{}, opts.Tabs), starting: make(chan struct{}, 1)}
}

// Find returns the browser to run, or says what to do when there is none.
func (c *Chromium) Find() (string, error) {
	if p := c.opts.Path; p != "" {
		found, err := c.opts.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("server.chromium: %s cannot be run: %w", p, err)
		}
		return found, nil
	}
	if p := c.opts.Getenv("UPSTATE_CHROMIUM"); p != "" {
		found, err := c.opts.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("UPSTATE_CHROMIUM: %s cannot be run: %w", p, err)
		}
		return found, nil
	}
	for _, name := range ChromiumNames() {
		if found, err := c.opts.LookPath(name); err == nil {
			return found, nil
		}
	}
	return "", fmt.Errorf("browser checks need Chromium, and none of %s is on PATH: install it (apt-get install chromium) or set server.chromium to its path", strings.Join(ChromiumNames(), ", "))
}

// Starts says how many times the browser process was started.
func (c *Chromium) Starts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.starts
}

// PID is the running browser's process id, 0 when none runs.
func (c *Chromium) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.browser == nil || c.browser.Err() != nil {
		return 0
	}
	if p := chromedp.FromContext(c.browser).Browser.Process(); p != nil {
		return p.Pid
	}
	return 0
}

// Tab waits for a free tab, starting the browser if it is not running,
// and opens one. The tab lasts until release, or until ctx is done;
// release must be called once.
func (c *Chromium) Tab(ctx context.Context) (tab context.Context, release func(), err error) {
	select {
	case c.tabs <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("no browser tab came free before the check's timeout: all %d are in use by other browser checks", cap(c.tabs))
	}
	b, err := c.ensure(ctx)
	if err != nil {
		<-c.tabs
		return nil, nil, err
	}
	tab, cancelTab := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	stopAfter := context.AfterFunc(ctx, cancelTab)
	answered := make(chan struct{})
	release = func() {
		stopAfter()
		cancelTab() // closes the tab and disposes of its browser context
		<-answered
		<-c.tabs
	}
	// The tab's first use opens it, and binds it to tab (not to a
	// shorter-lived context of a step).
	if err := c.open(tab); err != nil {
		close(answered)
		release()
		return nil, nil, err
	}
	// A dialog (alert, confirm, beforeunload) holds the page until it is
	// answered: answer yes, as a person would, so the check can go on.
	dialogs := chromedp.Events(tab, page.JavascriptDialogOpening)
	go func() {
		defer close(answered)
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(tab, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return tab, release, nil
}

// open opens the tab: the viewport's size, and no downloads.
func (c *Chromium) open(tab context.Context) error {
	if err := chromedp.Do(tab, chromedp.EmulateViewport(viewportWidth, viewportHeight)); err != nil {
		return c.opening(err)
	}
	_, err := chromedp.CallBrowser(tab, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorDeny, BrowserContextID: chromedp.FromContext(tab).BrowserContextID})
	return c.opening(err)
}

func (c *Chromium) opening(err error) error {
	if err == nil {
		return nil
	}
	if c.died() {
		return errors.New("opening a tab: Chromium exited (it is started again for the next check)")
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return errors.New("opening a tab: the check's timeout ran out")
	}
	return fmt.Errorf("opening a tab: %w", err)
}

// ensure returns the running browser, starting it if it is not.
func (c *Chromium) ensure(ctx context.Context) (context.Context, error) {
	select {
	case c.starting <- struct{}{}:
	case <-ctx.Done():
		return nil, errors.New("Chromium did not start before the check's timeout")
	}
	defer func() { <-c.starting }()
	c.mu.Lock()
	b, stop, closed := c.browser, c.stop, c.closed
	c.mu.Unlock()
	switch {
	case closed:
		return nil, errors.New("the browser is stopped: Upstate is shutting down")
	case b != nil && b.Err() == nil:
		return b, nil
	case b != nil:
		stop()
		c.opts.Logger.Warn("Chromium exited; starting it again", "component", "check")
	}
	path, err := c.Find()
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.DisableGPU, chromedp.WindowSize(viewportWidth, viewportHeight),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-domain-reliability", true), chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true), chromedp.Flag("disable-popup-blocking", false), chromedp.Flag("disable-notifications", true))
	// The browser outlives the check that starts it: its owner is c, and
	// Close ends it.
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	logf := func(format string, args ...any) {
		c.opts.Logger.Debug("chromium: "+fmt.Sprintf(format, args...), "component", "check")
	}
	bctx, cancelBrowser := chromedp.NewContext(alloc, chromedp.WithBrowserOption(chromedp.WithBrowserLogf(logf), chromedp.WithBrowserErrorf(logf)))
	stop = func() { cancelBrowser(); cancelAlloc() }
	// A start that takes longer than the check may wait is given up.
	giveUp := context.AfterFunc(ctx, cancelBrowser)
	began := time.Now()
	err = chromedp.Do(bctx) // starts the process, bound to bctx
	if !giveUp() {
		err = errors.New("Chromium did not start before the check's timeout")
	}
	if err != nil {
		stop()
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	c.mu.Lock()
	c.browser, c.stop = bctx, stop
	c.starts++
	c.mu.Unlock()
	pid := 0
	if p := chromedp.FromContext(bctx).Browser.Process(); p != nil {
		pid = p.Pid
	}
	c.opts.Logger.Info("Chromium started for browser checks", "component", "check", "path", path, "pid", pid, "took", time.Since(began).Round(time.Millisecond))
	return bctx, nil
}

// died reports whether the browser has died since it was started (and
// not because Close stopped it).
func (c *Chromium) died() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.browser != nil && c.browser.Err() != nil && !c.closed
}

// Close stops the browser, gracefully within ctx, and any start after.
// Tabs still open are closed with it.
func (c *Chromium) Close(ctx context.Context) error {
	select {
	case c.starting <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.starting }()
	c.mu.Lock()
	b, stop := c.browser, c.stop
	c.browser, c.stop, c.closed = nil, nil, true
	c.mu.Unlock()
	if b == nil {
		return nil
	}
	var err error
	if b.Err() == nil {
		graceful, cancel := context.WithTimeout(b, 5*time.Second)
		stopAfter := context.AfterFunc(ctx, cancel)
		err = chromedp.Cancel(graceful)
		stopAfter()
		cancel()
	}
	stop()
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("closing Chromium: %w", err)
	}
	return nil
}
