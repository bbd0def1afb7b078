// Command ociregistry serves go-containerregistry's in-memory OCI registry with the OCI 1.1
// referrers API enabled (GET /v2/<repo>/referrers/<digest>), for src/supply's tests of that
// path: Debian's docker-registry (distribution 2.8) does not serve it, and `crane registry
// serve` does not enable it. Listens on -addr (127.0.0.1:0 = a free port), prints
// "listening on <addr>" once it accepts connections, and serves until killed.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "listening on %s\n", l.Addr())
	s := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler:           registry.New(registry.WithReferrersSupport(true)),
	}
	log.Fatal(s.Serve(l))
}
