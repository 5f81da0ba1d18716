// Command target is the local HTTP target of the benchmarks: it answers
// every request with a small 200 OK, in its own process so that its CPU is
// not counted against Upstate's.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:19000", "address to listen on")
	flag.Parse()
	srv := &http.Server{
		Addr:              *listen,
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"ok"}`)
		}),
	}
	log.Fatal(srv.ListenAndServe())
}
