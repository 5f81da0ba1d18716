// Command signin is a load generator for bench/signin.sh: it keeps N
// sign-ins with wrong passwords in flight against an Upstate for a while,
// each from its own client address (X-Forwarded-For, which the benchmark's
// Upstate trusts from loopback) and for its own account, so that nothing
// but Upstate's own bound on password hashes in flight limits them. It
// prints how the answers came out.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:19082/api/v1/login", "sign-in endpoint")
	n := flag.Int("n", 500, "sign-ins in flight")
	d := flag.Duration("d", 20*time.Second, "how long")
	polite := flag.Bool("polite", false, "wait as long as Retry-After says before the next sign-in (a browser, not an attacker)")
	flag.Parse()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *n, MaxConnsPerHost: *n}, Timeout: time.Minute}
	var mu sync.Mutex
	codes := map[int]int{}
	var seq atomic.Int64
	stop := time.Now().Add(*d)
	var wg sync.WaitGroup
	for range *n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				i := seq.Add(1)
				body := fmt.Sprintf(`{"email": "user%d@bench.example", "password": "wrong password %d"}`, i, i)
				req, _ := http.NewRequest("POST", *url, bytes.NewBufferString(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
				code := 0
				var wait time.Duration
				if resp, err := client.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
					if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && *polite {
						wait = time.Duration(s) * time.Second
					}
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
				time.Sleep(wait)
			}
		}()
	}
	wg.Wait()
	var keys []int
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	fmt.Fprint(os.Stdout, "sign-in answers:")
	for _, k := range keys {
		label := fmt.Sprint(k)
		if k == 0 {
			label = "no answer"
		}
		fmt.Fprintf(os.Stdout, " %s×%d", label, codes[k])
	}
	fmt.Fprintln(os.Stdout)
}
