package mp

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

// Client calls the API of one Official Account (or of one Open Platform
// website app, for QR login). Set AppID and AppSecret; the other fields
// have working zero values. A Client is safe for concurrent use once its
// fields are set.
//
// No error a Client returns holds the app secret, a code or a token,
// whatever the transport put into its own errors: errors name the API
// path, never the URL that was called.
type Client struct {
	AppID     string
	AppSecret string
	// HTTPClient carries every call. Default: a client with a 10-second timeout.
	HTTPClient *http.Client
	// Endpoints are WeChat's base URLs. Default: production WeChat.
	Endpoints Endpoints

	now func() time.Time // clock for expiry; nil means time.Now
}

func (c *Client) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// defaultHTTPClient carries the calls of Clients without an HTTPClient.
var defaultHTTPClient = &http.Client{Timeout: 10 * time.Second}

// query is a URL query as key, value, key, value..., in the order WeChat
// documents: some endpoints check it, and url.Values.Encode would sort.
type query []string

func (q query) encode() string {
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

// values returns the query's values, which an error must never show.
func (q query) values() []string {
	var v []string
	for i := 1; i < len(q); i += 2 {
		v = append(v, q[i])
	}
	return v
}

// apiStatus is the errcode and errmsg every reply may carry.
type apiStatus struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func (s apiStatus) err(endpoint string) error {
	if s.ErrCode == 0 {
		return nil
	}
	return &Error{Code: s.ErrCode, Msg: s.ErrMsg, Endpoint: endpoint}
}

// reply is what get and post decode into: a struct that embeds apiStatus.
type reply interface{ err(string) error }

// get calls endpoint with q and decodes the JSON reply into v.
func (c *Client) get(ctx context.Context, endpoint string, q query, v reply) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Endpoints.WithDefaults().API+endpoint+"?"+q.encode(), nil)
	if err != nil {
		return fmt.Errorf("mp: %s: building the request: %w", endpoint, ErrUpstream)
	}
	return c.do(req, endpoint, q.values(), v)
}

// post sends body as JSON to endpoint with q and decodes the reply into v.
// secrets are the body's values that no error may show.
func (c *Client) post(ctx context.Context, endpoint string, q query, body any, secrets []string, v reply) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("mp: %s: encoding the request: %w", endpoint, err)
	}
	u := c.Endpoints.WithDefaults().API + endpoint
	if len(q) > 0 {
		u += "?" + q.encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("mp: %s: building the request: %w", endpoint, ErrUpstream)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	return c.do(req, endpoint, append(q.values(), secrets...), v)
}

// maxReply bounds how much of a WeChat reply is read.
const maxReply = 1 << 20

// do sends req and decodes its JSON reply into v. Whatever the transport
// says goes through redact first.
func (c *Client) do(req *http.Request, endpoint string, secrets []string, v reply) error {
	hc := c.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("mp: %s: %w: %w", endpoint, ErrUpstream, redact(err, secrets))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return fmt.Errorf("mp: %s: reading the reply: %w: %w", endpoint, ErrUpstream, redact(err, secrets))
	}
	return decodeReply(endpoint, resp.StatusCode, body, v)
}

// decodeReply turns a WeChat reply into v, or into an *Error when it
// carries an errcode. WeChat answers errors with HTTP 200 and may label
// JSON as text/plain, so the body is decoded whatever the Content-Type.
func decodeReply(endpoint string, status int, body []byte, v reply) error {
	if status != http.StatusOK {
		return fmt.Errorf("mp: %s: HTTP status %d: %w", endpoint, status, ErrUpstream)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("mp: %s: reply is not the expected JSON (%d bytes): %w", endpoint, len(body), ErrUpstream)
	}
	return v.err(endpoint)
}

// transportError is a transport's error with every secret and URL query
// taken out of its text. It keeps what callers act on (a timeout, a
// cancelled context) and drops the rest of the chain, whose text may hold
// the URL.
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
// and everything after a '?' up to the next space or quote replaced, so
// that no credential survives, whatever the transport wrote.
func redact(err error, secrets []string) error {
	msg := err.Error()
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
			if esc := url.QueryEscape(s); esc != s {
				msg = strings.ReplaceAll(msg, esc, "[redacted]")
			}
		}
	}
	msg = stripQueries(msg)
	te := &transportError{msg: msg}
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
