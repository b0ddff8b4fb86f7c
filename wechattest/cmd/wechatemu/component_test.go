package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/component"
)

// TestRunComponentPlatform: the banner's component appid line holds what
// a platform needs, and with -component-push-url the emulator pushes a
// verify ticket that gets the platform its component_access_token.
func TestRunComponentPlatform(t *testing.T) {
	var p *component.Platform
	pushed := make(chan int, 4)
	ready := make(chan struct{}) // closed once p is set: the first push may come before
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-ready
		rec := httptest.NewRecorder()
		p.PushHandler().ServeHTTP(rec, r)
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		pushed <- rec.Code
	}))
	defer app.Close()

	s := start(t, "-component-push-url", app.URL+"/push", "-component-appid", "wx00000000000000c9")
	m := regexp.MustCompile(`(?m)^  component appid (\S+)  secret (\S+)  token (\S+)  aeskey (\S+)$`).FindStringSubmatch(s.banner)
	if m == nil {
		t.Fatalf("banner has no component appid line: %q", s.banner)
	}
	if m[1] != "wx00000000000000c9" || len(m[4]) != 43 {
		t.Errorf("component appid line: %q", m[0])
	}
	var err error
	p, err = component.New(component.Options{AppID: m[1], AppSecret: m[2], Token: m[3], EncodingAESKey: m[4], APIURL: s.url})
	if err != nil {
		t.Fatal(err)
	}
	close(ready)
	select {
	case code := <-pushed:
		if code != http.StatusOK {
			t.Fatalf("the platform answered the push with HTTP %d", code)
		}
	case <-time.After(time.Minute):
		t.Fatal("no push arrived")
	}
	if tok, err := p.Token(context.Background()); err != nil || tok == "" {
		t.Errorf("Token after the push: %q, %v", tok, err)
	}
}

func TestRunRejectsBadComponentFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-component-aeskey", "short"},
		{"-component-secret", ""},
		{"-component-push-url", "ftp://x"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "-component-") {
			t.Errorf("%v: got %v, want an error naming the flag", args, err)
		}
	}
}
