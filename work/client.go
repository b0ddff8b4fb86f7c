package work

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/wechatauth/wechatauth/internal/wxhttp"
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

	now wxhttp.Clock // clock for expiry; nil means time.Now
}

func (c *Client) clock() time.Time { return c.now.Now() }

// A query is a URL query in the order WeCom documents; a reply embeds
// apiStatus, the errcode and errmsg every reply carries.
type (
	query     = wxhttp.Query
	apiStatus = wxhttp.Status
)

// api is how this package calls WeCom: its errors start with "work" and
// wrap mp.ErrUpstream; a reply's keys match its fields' tags exactly;
// an errcode is an *Error whose errmsg is scrubbed of the call's secrets,
// as WeCom may repeat what it was sent. WeCom answers errors with HTTP
// 200 (the status of its error replies is not documented) and its
// errcode decides.
var api = &wxhttp.API{
	Name:      "work",
	Upstream:  mp.ErrUpstream,
	Unmarshal: decodeExact,
	Refused: func(s wxhttp.Status, endpoint string, secrets []string) error {
		return &Error{Code: s.ErrCode, Msg: wxhttp.Scrub(s.ErrMsg, secrets), Endpoint: endpoint}
	},
}

// get calls endpoint with q and decodes the JSON reply into v.
func (c *Client) get(ctx context.Context, endpoint string, q query, v wxhttp.Reply) error {
	return api.Get(ctx, c.HTTPClient, c.Endpoints.WithDefaults().API, endpoint, q, []string{c.Secret}, v)
}

// post sends body as JSON to endpoint with q and decodes the reply into v.
// secrets are the body's values that no error may show.
func (c *Client) post(ctx context.Context, endpoint string, q query, body any, secrets []string, v wxhttp.Reply) error {
	return api.Post(ctx, c.HTTPClient, c.Endpoints.WithDefaults().API, endpoint, q, body, append([]string{c.Secret}, secrets...), v)
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
