package work

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/wechatauth/wechatauth/mp"
)

// Client calls the API of one WeCom self-built app. Set CorpID, AgentID
// and Secret; the other fields have working zero values. A Client is safe
// for concurrent use once its fields are set.
//
// No error a Client returns holds the Secret, a code, a user ticket or a
// token, whatever the transport or WeCom put into their own text: errors
// name the API path, never the URL that was called.
type Client struct {
	// CorpID is the corp's ID (企业ID, under 我的企业 → 企业信息).
	CorpID string
	// AgentID is the app's AgentId (应用管理 → 应用), a number WeCom
	// shows as digits, such as "1000002". The authorize page needs it for
	// ScopePrivateInfo, the Web login always, and the credential cache
	// tells apps apart by it.
	AgentID string
	// Secret is the app's Secret. It authenticates the app to WeCom and
	// goes nowhere else.
	Secret string
	// HTTPClient carries every call. Default: a client with a 10-second
	// timeout.
	HTTPClient *http.Client
	// Endpoints are WeCom's base URLs. Default: production WeCom.
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

// query is a URL query as key, value, key, value..., in the order WeCom
// documents (url.Values.Encode would sort).
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

// apiStatus is the errcode and errmsg every reply carries.
type apiStatus struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func (s apiStatus) status() apiStatus { return s }

// reply is what get and post decode into: a struct that embeds apiStatus.
type reply interface{ status() apiStatus }

// get calls endpoint with q and decodes the JSON reply into v.
func (c *Client) get(ctx context.Context, endpoint string, q query, v reply) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Endpoints.WithDefaults().API+endpoint+"?"+q.encode(), nil)
	if err != nil {
		return fmt.Errorf("work: %s: building the request: %w", endpoint, mp.ErrUpstream)
	}
	return c.do(req, endpoint, append(q.values(), c.Secret), v)
}

// post sends body as JSON to endpoint with q and decodes the reply into v.
// secrets are the body's values that no error may show.
func (c *Client) post(ctx context.Context, endpoint string, q query, body any, secrets []string, v reply) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("work: %s: encoding the request: %w", endpoint, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoints.WithDefaults().API+endpoint+"?"+q.encode(), bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("work: %s: building the request: %w", endpoint, mp.ErrUpstream)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	return c.do(req, endpoint, append(append(q.values(), c.Secret), secrets...), v)
}

// maxReply bounds how much of a WeCom reply is read.
const maxReply = 1 << 20

// do sends req and decodes its JSON reply into v. Whatever the transport
// or WeCom says goes through scrub first.
func (c *Client) do(req *http.Request, endpoint string, secrets []string, v reply) error {
	hc := c.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("work: %s: %w: %w", endpoint, mp.ErrUpstream, redact(err, secrets))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return fmt.Errorf("work: %s: reading the reply: %w: %w", endpoint, mp.ErrUpstream, redact(err, secrets))
	}
	// WeCom answers errors with HTTP 200 (the status of its error replies
	// is not documented) and its errcode decides; the body is read as JSON
	// whatever the Content-Type.
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("work: %s: HTTP status %d: %w", endpoint, resp.StatusCode, mp.ErrUpstream)
	}
	if err := decodeExact(body, v); err != nil {
		return fmt.Errorf("work: %s: reply is not the expected JSON (%d bytes): %w", endpoint, len(body), mp.ErrUpstream)
	}
	if s := v.status(); s.ErrCode != 0 {
		return &Error{Code: s.ErrCode, Msg: scrub(s.ErrMsg, secrets), Endpoint: endpoint}
	}
	return nil
}

// decodeExact decodes the JSON object body into the struct v points to,
// each field from the key its json tag names, matched exactly.
// encoding/json matches keys regardless of case, and would read the
// legacy user/getuserinfo's "UserId" as auth/getuserinfo's "userid".
func decodeExact(body []byte, v any) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return err
	}
	if m == nil {
		return errors.New("not a JSON object")
	}
	return fill(m, reflect.ValueOf(v).Elem())
}

// fill sets the fields of the struct s, and of the structs it embeds,
// from m.
func fill(m map[string]json.RawMessage, s reflect.Value) error {
	t := s.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := fill(m, s.Field(i)); err != nil {
				return err
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if raw, ok := m[name]; ok && name != "" {
			if err := json.Unmarshal(raw, s.Field(i).Addr().Interface()); err != nil {
				return err
			}
		}
	}
	return nil
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

func (e *transportError) Error() string { return e.msg }
func (e *transportError) Timeout() bool { return e.timeout }
func (e *transportError) Unwrap() error { return e.cause }

// redact returns err as a transportError: its text with each of secrets
// and every URL query taken out.
func redact(err error, secrets []string) error {
	te := &transportError{msg: stripQueries(scrub(err.Error(), secrets))}
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

// scrub returns s with each of secrets, as is and query-escaped, replaced,
// so that no credential survives whatever the transport or WeCom wrote.
// Values shorter than 4 bytes are left, as they would match innocent text.
func scrub(s string, secrets []string) string {
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
