package work_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wechatauth/wechatauth/work"
)

// The app the fake serves. Every value is long and distinctive, so that a
// test can tell whether an error's text holds it.
const (
	corpID  = "wwCorp0123456789ab"
	agentID = "1000002"
	secret  = "S3cretOfTheApp-0123456789abcdef"
	code    = "CODE-0123456789abcdef"
	ticket  = "TICKET-0123456789abcdef"
)

// request is what the fake saw of one call.
type request struct {
	method, rawQuery, contentType, body string
}

// fake is a WeCom API of one handler per path, recording each call. Its
// gettoken issues "ACCESSTOKEN-1", "ACCESSTOKEN-2", … unless told
// otherwise.
type fake struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	handlers map[string]http.HandlerFunc
	reqs     map[string][]request
	issued   int
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{t: t, handlers: map[string]http.HandlerFunc{}, reqs: map[string][]request{}}
	f.handle("/cgi-bin/gettoken", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","access_token":%q,"expires_in":7200}`, f.issue())
	})
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs[r.URL.Path] = append(f.reqs[r.URL.Path], request{r.Method, r.URL.RawQuery, r.Header.Get("Content-Type"), string(body)})
	h := f.handlers[r.URL.Path]
	f.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	h(w, r)
}

// issue returns the next access token.
func (f *fake) issue() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.issued++
	return fmt.Sprintf("ACCESSTOKEN-%d", f.issued)
}

// handle sets the handler of path.
func (f *fake) handle(path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[path] = h
}

// reply makes path answer body.
func (f *fake) reply(path, body string) {
	f.handle(path, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })
}

// calls returns the calls path received.
func (f *fake) calls(path string) []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs[path]...)
}

// client returns a Client of the fake's app.
func (f *fake) client() *work.Client {
	return &work.Client{CorpID: corpID, AgentID: agentID, Secret: secret,
		HTTPClient: f.srv.Client(), Endpoints: work.EndpointsAt(f.srv.URL)}
}

// staticTokens is an access token source that always gives the same
// token and counts the invalidations it is told of.
type staticTokens struct {
	token       string
	mu          sync.Mutex
	invalidated int
}

func (s *staticTokens) Token(context.Context) (string, error) { return s.token, nil }

func (s *staticTokens) Invalidate(context.Context, string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated++
	return nil
}

// noSecrets fails the test when err's text holds the secret, the code,
// the user ticket or an access token.
func noSecrets(t *testing.T, err error, extra ...string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range append([]string{secret, code, ticket, "ACCESSTOKEN"}, extra...) {
		if strings.Contains(msg, s) {
			t.Errorf("error %q holds %q", msg, s)
		}
	}
}
