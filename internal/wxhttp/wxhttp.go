// Package wxhttp is the HTTP side of the API clients of packages mp (the
// Official Account) and work (WeCom): the query in the order the platform
// documents, GET and POST with a JSON reply and its errcode, and the
// redaction that keeps secrets, codes, tickets, tokens and URLs out of
// every error, whatever the transport writes. Each package keeps its own
// error type and error text: an [API] says which.
package wxhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Query is a URL query as key, value, key, value..., in the order the
// platform documents: some endpoints check it, and url.Values.Encode
// would sort.
type Query []string

// Encode returns the query in URL encoding, its pairs in order.
func (q Query) Encode() string {
	var b strings.Builder
	for i := 0; i+1 < len(q); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(q[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(q[i+1]))
	}
	return b.String()
}

// Values returns the query's values, which an error must never show.
func (q Query) Values() []string {
	var v []string
	for i := 1; i < len(q); i += 2 {
		v = append(v, q[i])
	}
	return v
}

// Status is the errcode and errmsg every reply may carry.
type Status struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func (s Status) status() Status { return s }

// Reply is what [API.Get] and [API.Post] decode into: a pointer to a
// struct that embeds Status.
type Reply interface{ status() Status }

// Clock is a client's clock for expiry; nil means time.Now.
type Clock func() time.Time

// Now returns the time on c.
func (c Clock) Now() time.Time {
	if c != nil {
		return c()
	}
	return time.Now()
}

// AuthorizeLink returns the link of an authorization page on
// open.weixin.qq.com's template, the Official Account's and WeCom's
// alike: appid, redirect_uri, response_type=code, scope, state, then
// agentid (WeCom's; left out when empty), then #wechat_redirect. The
// platform matches the link against the template, so the order holds.
func AuthorizeLink(page, appID, redirectURI, scope, state, agentID string) string {
	u := page +
		"?appid=" + url.QueryEscape(appID) +
		"&redirect_uri=" + url.QueryEscape(redirectURI) +
		"&response_type=code" +
		"&scope=" + url.QueryEscape(scope) +
		"&state=" + url.QueryEscape(state)
	if agentID != "" {
		u += "&agentid=" + url.QueryEscape(agentID)
	}
	return u + "#wechat_redirect"
}

// DefaultClient carries the calls of clients without an HTTP client of
// their own.
var DefaultClient = &http.Client{Timeout: 10 * time.Second}

// MaxReply bounds how much of a reply is read.
const MaxReply = 1 << 20

// API is what differs between the packages that call a platform's API:
// the start of their errors, the error that marks the platform
// unreachable, how a reply is decoded and what a refusal becomes.
type API struct {
	// Name starts every error: "mp" gives "mp: /cgi-bin/token: …".
	Name string
	// Upstream is wrapped by every failure to reach the platform or to
	// read its answer.
	Upstream error
	// Unmarshal decodes a reply's body into a Reply. Default
	// json.Unmarshal.
	Unmarshal func(body []byte, v any) error
	// Refused turns a reply's non-zero errcode into the package's error.
	// secrets are the call's values that no error may show.
	Refused func(s Status, endpoint string, secrets []string) error
}

// Get calls endpoint of the API at base with q, through hc (nil:
// DefaultClient), and decodes the JSON reply into v. secrets are values
// besides q's that no error may show.
func (a *API) Get(ctx context.Context, hc *http.Client, base, endpoint string, q Query, secrets []string, v Reply) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, callURL(base, endpoint, q), nil)
	if err != nil {
		return fmt.Errorf("%s: %s: building the request: %w", a.Name, endpoint, a.Upstream)
	}
	return a.do(hc, req, endpoint, append(q.Values(), secrets...), v)
}

// Post sends body as JSON to endpoint of the API at base with q, through
// hc (nil: DefaultClient), and decodes the reply into v. secrets are
// values besides q's, the body's among them, that no error may show.
func (a *API) Post(ctx context.Context, hc *http.Client, base, endpoint string, q Query, body any, secrets []string, v Reply) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("%s: %s: encoding the request: %w", a.Name, endpoint, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, callURL(base, endpoint, q), bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%s: %s: building the request: %w", a.Name, endpoint, a.Upstream)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	return a.do(hc, req, endpoint, append(q.Values(), secrets...), v)
}

// callURL is the URL of endpoint at base with q, if any.
func callURL(base, endpoint string, q Query) string {
	if len(q) == 0 {
		return base + endpoint
	}
	return base + endpoint + "?" + q.Encode()
}

// do sends req and decodes its JSON reply into v. Whatever the transport
// says goes through redact first.
func (a *API) do(hc *http.Client, req *http.Request, endpoint string, secrets []string, v Reply) error {
	if hc == nil {
		hc = DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %s: %w: %w", a.Name, endpoint, a.Upstream, redact(err, secrets))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxReply))
	if err != nil {
		return fmt.Errorf("%s: %s: reading the reply: %w: %w", a.Name, endpoint, a.Upstream, redact(err, secrets))
	}
	return a.Decode(endpoint, resp.StatusCode, body, secrets, v)
}

// Decode turns a reply into v, or into the package's error (a.Refused)
// when it carries an errcode. The platform answers errors with HTTP 200
// and may label JSON as text/plain, so the body is decoded whatever the
// Content-Type. secrets go to a.Refused.
func (a *API) Decode(endpoint string, status int, body []byte, secrets []string, v Reply) error {
	if status != http.StatusOK {
		return fmt.Errorf("%s: %s: HTTP status %d: %w", a.Name, endpoint, status, a.Upstream)
	}
	unmarshal := a.Unmarshal
	if unmarshal == nil {
		unmarshal = json.Unmarshal
	}
	if err := unmarshal(body, v); err != nil {
		return fmt.Errorf("%s: %s: reply is not the expected JSON (%d bytes): %w", a.Name, endpoint, len(body), a.Upstream)
	}
	if s := v.status(); s.ErrCode != 0 {
		return a.Refused(s, endpoint, secrets)
	}
	return nil
}

// transportError is a transport's error with every secret and URL query
// taken out of its text. It keeps what callers act on (a timeout, a
// cancelled context) and drops the rest of the chain, whose text may hold
// the URL. It is a net.Error, so that a timeout reads as one.
type transportError struct {
	msg     string
	timeout bool
	cause   error // context.Canceled or context.DeadlineExceeded, or nil
}

func (e *transportError) Error() string   { return e.msg }
func (e *transportError) Timeout() bool   { return e.timeout }
func (e *transportError) Temporary() bool { return false }
func (e *transportError) Unwrap() error   { return e.cause }

// redact returns err as a transportError: its text with each of secrets
// and every URL query taken out, so that no credential survives, whatever
// the transport wrote.
func redact(err error, secrets []string) error {
	te := &transportError{msg: stripQueries(Scrub(err.Error(), secrets))}
	var timeout interface{ Timeout() bool }
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		te.cause, te.timeout = context.DeadlineExceeded, true
	case errors.Is(err, context.Canceled):
		te.cause = context.Canceled
	case errors.As(err, &timeout) && timeout.Timeout():
		te.timeout = true
	}
	return te
}

// Scrub returns s with each of secrets, as is and query-escaped,
// replaced by "[redacted]". Values shorter than 4 bytes are left, as they
// would match innocent text.
func Scrub(s string, secrets []string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
			if esc := url.QueryEscape(v); esc != v {
				s = strings.ReplaceAll(s, esc, "[redacted]")
			}
		}
	}
	return s
}

// stripQueries replaces every URL query in s with "?[redacted]".
func stripQueries(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '?')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString("?[redacted]")
		s = s[i+1:]
		end := strings.IndexAny(s, " \t\n\"'`")
		if end < 0 {
			return b.String()
		}
		s = s[end:]
	}
}
