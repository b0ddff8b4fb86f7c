package sitetest

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// Site is an app that tests visit with browsers, through the emulator.
// Its methods fail T on what a test does not expect.
type Site struct {
	T testing.TB
	// URL is the app's origin, such as "http://127.0.0.1:4000".
	URL string
	// Transport carries the browsers' requests to the app and to the
	// platform: the emulator's client's.
	Transport http.RoundTripper
	// UserAgent, if not "", is the User-Agent of Browser's browsers.
	UserAgent string
	// Platform names the platform in failure messages: "WeChat", "WeCom".
	Platform string
	// Callback is the face's Options.CallbackURL.
	Callback string
	// Authorize is the address of the platform's page that a login is
	// sent to.
	Authorize string
	// LoggedIn reports whether body, the page a login ends on, shows a
	// logged-in user.
	LoggedIn func(body string) bool
}

// Browser is a new browser with its own cookie jar, sending UserAgent.
// follow chooses whether it follows redirects (through the emulator and
// back) or stops at each.
func (s *Site) Browser(follow bool) *http.Client { return s.BrowserAs(s.UserAgent, follow) }

// BrowserAs is Browser with ua as its User-Agent ("": Go's).
func (s *Site) BrowserAs(ua string, follow bool) *http.Client {
	rt := s.Transport
	if ua != "" {
		rt = RoundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.Header.Set("User-Agent", ua)
			return s.Transport.RoundTrip(r)
		})
	}
	return NewBrowser(rt, follow)
}

// NewBrowser is a client with its own cookie jar over rt; follow chooses
// whether it follows redirects or stops at each.
func NewBrowser(rt http.RoundTripper, follow bool) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: rt}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

// RoundTripFunc is an http.RoundTripper of a function.
type RoundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f.
func (f RoundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Get sends a page navigation and returns the response with its body
// read. A rawURL that starts with "/" is on the app.
func (s *Site) Get(c *http.Client, rawURL string) (*http.Response, string) {
	s.T.Helper()
	return s.Do(c, http.MethodGet, rawURL, nil)
}

// Do is Get with another method, and header added to the request.
func (s *Site) Do(c *http.Client, method, rawURL string, header http.Header) (*http.Response, string) {
	s.T.Helper()
	if strings.HasPrefix(rawURL, "/") {
		rawURL = s.URL + rawURL
	}
	resp, body, err := Fetch(c, method, rawURL, header)
	if err != nil {
		s.T.Fatalf("%s %s: %v", method, rawURL, err)
	}
	return resp, body
}

// Fetch sends a request as a browser's page navigation sends it (Accept:
// text/html, then header) and returns the response with its body read.
// It is safe in any goroutine.
func Fetch(c *http.Client, method, rawURL string, header http.Header) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, rawURL, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "text/html")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

// Step fetches rawURL, expecting wantStatus.
func (s *Site) Step(c *http.Client, rawURL string, wantStatus int) (*http.Response, string) {
	s.T.Helper()
	resp, body := s.Get(c, rawURL)
	if resp.StatusCode != wantStatus {
		s.T.Fatalf("GET %s: status %d, want %d; body %q", rawURL, resp.StatusCode, wantStatus, body)
	}
	return resp, body
}

// CallbackURL walks a browser that stops at redirects from a protected
// page to the platform and back, and returns the callback URL the
// platform sent it to, without visiting it.
func (s *Site) CallbackURL(c *http.Client, path string) string {
	s.T.Helper()
	resp, _ := s.Step(c, path, http.StatusFound)
	resp, _ = s.Step(c, resp.Header.Get("Location"), http.StatusFound)
	cb := resp.Header.Get("Location")
	if !strings.HasPrefix(cb, s.Callback+"?") {
		s.T.Fatalf("%s redirected to %q, want the callback %q", s.Platform, cb, s.Callback)
	}
	return cb
}

// Login logs a new browser in through the emulator, from path, and
// returns it.
func (s *Site) Login(path string) *http.Client {
	s.T.Helper()
	c := s.Browser(true)
	s.LoginWith(c, path)
	return c
}

// LoginWith logs browser c in through the emulator, from path, as the
// emulator's visitor, and returns the page the login ends on.
func (s *Site) LoginWith(c *http.Client, path string) string {
	s.T.Helper()
	resp, body := s.Get(c, path)
	if resp.StatusCode != http.StatusOK || !s.LoggedIn(body) {
		s.T.Fatalf("login through %s: status %d, body %q", path, resp.StatusCode, body)
	}
	return body
}

// AssertLoggedOut checks that browser c has no login: a protected page
// sends it to the platform.
func (s *Site) AssertLoggedOut(c *http.Client) {
	s.T.Helper()
	resp, body := s.Get(c, "/account/check")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), s.Authorize) {
		s.T.Errorf("want no login: status %d, Location %q, body %q", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// AssertLoggedIn checks that browser c is logged in: a protected page
// answers and shows want.
func (s *Site) AssertLoggedIn(c *http.Client, want string) {
	s.T.Helper()
	resp, body := s.Get(c, "/account/check")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
		s.T.Errorf("want logged in, the page showing %q: status %d, body %q", want, resp.StatusCode, body)
	}
}

// Cookies returns a copy of every cookie c holds for the app: the state
// of the browser at a moment, such as before an answer that is then lost.
func (s *Site) Cookies(c *http.Client) []*http.Cookie {
	u, _ := url.Parse(s.URL)
	return c.Jar.Cookies(u)
}

// Cookie returns the value of the cookie name that c holds for the app.
func (s *Site) Cookie(c *http.Client, name string) string {
	for _, ck := range s.Cookies(c) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// WithCookies returns a new browser that stops at redirects and holds the
// given cookies, as Cookies returned them.
func (s *Site) WithCookies(cs []*http.Cookie) *http.Client {
	c := s.Browser(false)
	u, _ := url.Parse(s.URL)
	for _, ck := range cs {
		c.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/"}})
	}
	return c
}

// WithCode returns callback URL cb with its state kept and its code
// replaced (or dropped when code is "").
func WithCode(t testing.TB, cb, code string) string {
	t.Helper()
	u, err := url.Parse(cb)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("code")
	if code != "" {
		q.Set("code", code)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// WithState returns callback URL cb with its state replaced.
func WithState(t testing.TB, cb, state string) string {
	t.Helper()
	u, _ := url.Parse(cb)
	q := u.Query()
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String()
}
