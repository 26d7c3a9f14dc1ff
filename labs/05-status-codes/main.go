// An HTTP server that answers GET /<code> with that status code, e.g. /404 or /503.
package main

import (
	"fmt"
	"log"
	"net/http"
	"strconv"
	"strings"
)

func handle(w http.ResponseWriter, r *http.Request) {
	path := strings.Trim(r.URL.Path, "/")
	if path == "" {
		fmt.Fprintln(w, "Ask for a status code, for example /418")
		return
	}
	code, err := strconv.Atoi(path)
	if err != nil || code < 200 || code > 599 {
		http.Error(w, fmt.Sprintf("%q is not a status code between 200 and 599", path), http.StatusBadRequest)
		return
	}
	w.WriteHeader(code)
	fmt.Fprintf(w, "%d %s\n", code, http.StatusText(code))
}

func main() {
	http.HandleFunc("/", handle)
	log.Println("status-codes listening on :8080")
	log.Fatal(http.ListenAndServe(":8080", nil))
}
