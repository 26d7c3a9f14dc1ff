// A visit counter: every request increments a key in Redis and says how many visits there were.
// It speaks Redis's wire protocol itself (one command), so it needs nothing beyond the standard library.
package main

import (
	"bufio"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// incr sends INCR key and returns the new value.
func incr(addr, key string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(conn, "*2\r\n$4\r\nINCR\r\n$%d\r\n%s\r\n", len(key), key)
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(line, ":") {
		return "", fmt.Errorf("redis said %q", strings.TrimSpace(line))
	}
	return strings.TrimSpace(line[1:]), nil
}

func main() {
	addr := env("REDIS_ADDR", "redis:6379")
	port := env("PORT", "8080")

	// The image's HEALTHCHECK runs the same binary with -healthcheck: a scratch image has no curl.
	if len(os.Args) > 1 && os.Args[1] == "-healthcheck" {
		resp, err := http.Get("http://127.0.0.1:" + port + "/health")
		if err != nil || resp.StatusCode != http.StatusOK {
			os.Exit(1)
		}
		os.Exit(0)
	}

	host, _ := os.Hostname()
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n, err := incr(addr, "visits")
		if err != nil {
			http.Error(w, "cannot reach redis: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "Hello from %s: visit number %s\n", host, n)
	})
	log.Printf("counter listening on :%s, redis at %s", port, addr)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
