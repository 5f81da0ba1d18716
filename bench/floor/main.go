// Command floor is the floor of bench/page.sh: a bare Go HTTP server that
// answers with the very bytes an Upstate answers, so that a read's cost
// can be told as a share of what net/http and the loopback need for the
// same answer. At start-up it fetches each path from the Upstate at -from,
// once plain and once with Accept-Encoding: gzip, keeping the bodies and
// the response headers; then it serves them as static bytes, choosing the
// gzip answer when the request's Accept-Encoding names gzip. Per-request
// headers (X-Request-Id) keep their length, and net/http sets Date as it
// does for Upstate. No routing, middleware, metrics or logging: that is
// the point.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"time"
)

type answer struct {
	header http.Header
	body   []byte
}

type doc struct{ plain, gzip answer }

func fetch(client *http.Client, url string, gzip bool) (answer, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return answer{}, err
	}
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return answer{}, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	h := resp.Header.Clone()
	h.Del("Date") // net/http writes its own, as it does for Upstate
	return answer{header: h, body: body}, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:19082", "address to listen on")
	from := flag.String("from", "http://127.0.0.1:19081", "the Upstate whose answers to serve")
	flag.Parse()
	// No transparent decompression: the gzip bytes are kept as sent.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}
	docs := map[string]*doc{}
	for _, path := range flag.Args() {
		var d doc
		var err error
		if d.plain, err = fetch(client, *from+path, false); err != nil {
			log.Fatal(err)
		}
		if d.gzip, err = fetch(client, *from+path, true); err != nil {
			log.Fatal(err)
		}
		docs[path] = &d
	}
	srv := &http.Server{
		Addr:              *listen,
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d := docs[r.URL.Path]
			if d == nil {
				http.NotFound(w, r)
				return
			}
			a := d.plain
			if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				a = d.gzip
			}
			h := w.Header()
			for k, v := range a.header {
				h[k] = v
			}
			_, _ = w.Write(a.body)
		}),
	}
	log.Fatal(srv.ListenAndServe())
}
