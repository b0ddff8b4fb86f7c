// Command bare is the baseline of the load run: a bare scs app with its
// sessions in Redis whose account page does the hand-written check (one
// session read, 401 when empty) and renders a page like the example's.
//
//	REDIS_ADDR=127.0.0.1:6379 ADDR=127.0.0.1:8081 go run ./internal/loadrun/bare
//
// GET /login puts an openid in the session; GET /account/ is the page.
package main

import (
	"html/template"
	"log"
	"net/http"
	"os"
	"time"

	scsredis "github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/gomodule/redigo/redis"
)

var page = template.Must(template.New("account").Parse(`<!doctype html><title>Your account</title>
<h1>Your account</h1><dl><dt>openid</dt><dd id="openid">{{.}}</dd></dl>`))

func main() {
	addr := os.Getenv("REDIS_ADDR")
	pool := &redis.Pool{MaxIdle: 64, IdleTimeout: 4 * time.Minute, Dial: func() (redis.Conn, error) { return redis.Dial("tcp", addr) }}
	sessions := scs.New()
	sessions.Store = scsredis.New(pool)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		sessions.Put(r.Context(), "openid", "oLoadTest000000000000000001")
	})
	mux.HandleFunc("/account/", func(w http.ResponseWriter, r *http.Request) {
		openID := sessions.GetString(r.Context(), "openid")
		if openID == "" {
			http.Error(w, "login required", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page.Execute(w, openID)
	})
	log.Fatal(http.ListenAndServe(os.Getenv("ADDR"), sessions.LoadAndSave(mux)))
}
