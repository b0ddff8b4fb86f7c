package wechatauth

import (
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

// Production WeChat endpoints, used where Endpoints leaves a field empty.
const (
	DefaultAuthorizeURL = "https://open.weixin.qq.com/connect/oauth2/authorize"
	DefaultQRConnectURL = "https://open.weixin.qq.com/connect/qrconnect"
	DefaultAPIURL       = "https://api.weixin.qq.com"
)

// Endpoints holds the base URLs of the WeChat services the package talks to.
// The zero value means production WeChat; the emulator in package wechattest
// hands back its own.
type Endpoints struct {
	// Authorize is the web authorization page browsers are sent to.
	// Default DefaultAuthorizeURL.
	Authorize string
	// QRConnect is the website QR login page for browsers outside WeChat.
	// Default DefaultQRConnectURL.
	QRConnect string
	// API is the base URL of the server API, without a trailing slash.
	// Default DefaultAPIURL.
	API string
}

func (e Endpoints) withDefaults() Endpoints {
	if e.Authorize == "" {
		e.Authorize = DefaultAuthorizeURL
	}
	if e.QRConnect == "" {
		e.QRConnect = DefaultQRConnectURL
	}
	if e.API == "" {
		e.API = DefaultAPIURL
	}
	e.API = strings.TrimRight(e.API, "/")
	return e
}

// Client calls WeChat's web authorization API. Its zero value is not usable:
// set AppID and AppSecret. A Client is safe for concurrent use.
//
// No error a Client returns holds the app secret, a code or a token: errors
// name the API path, never the URL that was called.
type Client struct {
	AppID     string
	AppSecret string
	// HTTPClient carries every call. Default: a client with a 10-second timeout.
	HTTPClient *http.Client
	// Endpoints are WeChat's base URLs. Default: production WeChat.
	Endpoints Endpoints

	now func() time.Time // clock for token expiry; nil means time.Now
}

// Token is what WeChat hands over for one user's web authorization: the
// per-user access token (not the account's global access_token), the refresh
// token that renews it for 30 days, and who the user is.
type Token struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time // when AccessToken stops working
	OpenID       string
	UnionID      string // empty unless the account is bound to an Open Platform account
	Scope        string // as WeChat reports it, possibly comma-separated
	AppID        string // the app the tokens were issued to, which alone can refresh them
	// Snapshot reports a snapshot-page (快照页) user: OpenID and UnionID are
	// virtual and must never be bound to an account.
	Snapshot bool
}

// Expired reports whether the access token has expired at t, with a minute of
// margin for clock skew and the time a call takes.
func (t Token) Expired(at time.Time) bool {
	return !at.Before(t.Expiry.Add(-time.Minute))
}

// HasScope reports whether the token's scope list includes s.
func (t Token) HasScope(s Scope) bool {
	for _, part := range strings.Split(t.Scope, ",") {
		if strings.TrimSpace(part) == string(s) {
			return true
		}
	}
	return false
}

type tokenReply struct {
	apiStatus
	AccessToken    string `json:"access_token"`
	ExpiresIn      int64  `json:"expires_in"`
	RefreshToken   string `json:"refresh_token"`
	OpenID         string `json:"openid"`
	Scope          string `json:"scope"`
	IsSnapshotUser int    `json:"is_snapshotuser"`
	UnionID        string `json:"unionid"`
}

type apiStatus struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func (s apiStatus) err(endpoint string) error {
	if s.ErrCode == 0 {
		return nil
	}
	return &APIError{Code: s.ErrCode, Msg: s.ErrMsg, Endpoint: endpoint}
}

// Exchange trades the code from a callback for the user's tokens
// (GET /sns/oauth2/access_token). A code works once, within five minutes.
func (c *Client) Exchange(ctx context.Context, code string) (*Token, error) {
	q := url.Values{"appid": {c.AppID}, "secret": {c.AppSecret}, "code": {code}, "grant_type": {"authorization_code"}}
	return c.token(ctx, "/sns/oauth2/access_token", q)
}

// Refresh renews a user's access token with the refresh token
// (GET /sns/oauth2/refresh_token). When the refresh token has expired WeChat
// answers CodeRefreshTokenExpired, and the user must authorize again.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	q := url.Values{"appid": {c.AppID}, "grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	return c.token(ctx, "/sns/oauth2/refresh_token", q)
}

func (c *Client) token(ctx context.Context, endpoint string, q url.Values) (*Token, error) {
	var reply tokenReply
	if err := c.get(ctx, endpoint, q, &reply); err != nil {
		return nil, err
	}
	if reply.OpenID == "" || reply.AccessToken == "" {
		return nil, fmt.Errorf("wechatauth: %s: reply without openid or access_token: %w", endpoint, errUpstream)
	}
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	return &Token{
		AccessToken:  reply.AccessToken,
		RefreshToken: reply.RefreshToken,
		Expiry:       now().Add(time.Duration(reply.ExpiresIn) * time.Second),
		OpenID:       reply.OpenID,
		UnionID:      reply.UnionID,
		Scope:        reply.Scope,
		AppID:        c.AppID,
		Snapshot:     reply.IsSnapshotUser == 1,
	}, nil
}

// Profile is a user's public profile as /sns/userinfo gives it. Since
// October 2021 WeChat no longer gives gender or region, so those are left out.
type Profile struct {
	OpenID     string
	UnionID    string
	Nickname   string
	HeadImgURL string // avatar; the last path segment picks the size (0 = 640 px, 46, 64, 96, 132)
	Privilege  []string
}

type userInfoReply struct {
	apiStatus
	OpenID     string   `json:"openid"`
	Nickname   string   `json:"nickname"`
	Sex        flexInt  `json:"sex"`
	HeadImgURL string   `json:"headimgurl"`
	Privilege  []string `json:"privilege"`
	UnionID    string   `json:"unionid"`
}

// flexInt accepts a JSON number or a string holding one: old WeChat replies
// gave sex as a string.
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		var s string
		if json.Unmarshal(b, &s) != nil {
			return err
		}
		n = json.Number(s)
	}
	if n == "" {
		*f = 0
		return nil
	}
	i, err := n.Int64()
	*f = flexInt(i)
	return err
}

// UserInfo fetches the profile of the user an access token was issued for
// (GET /sns/userinfo, lang zh_CN). The token must come from snsapi_userinfo;
// a snsapi_base token gives CodeScopeUnauthorized.
func (c *Client) UserInfo(ctx context.Context, accessToken, openID string) (*Profile, error) {
	var reply userInfoReply
	q := url.Values{"access_token": {accessToken}, "openid": {openID}, "lang": {"zh_CN"}}
	if err := c.get(ctx, "/sns/userinfo", q, &reply); err != nil {
		return nil, err
	}
	if reply.OpenID == "" {
		return nil, fmt.Errorf("wechatauth: /sns/userinfo: reply without openid: %w", errUpstream)
	}
	return &Profile{
		OpenID:     reply.OpenID,
		UnionID:    reply.UnionID,
		Nickname:   reply.Nickname,
		HeadImgURL: reply.HeadImgURL,
		Privilege:  reply.Privilege,
	}, nil
}

// CheckToken asks WeChat whether an access token is still valid for openID
// (GET /sns/auth). Replies that mean "not valid" give false and a nil error;
// an error means the question could not be answered.
func (c *Client) CheckToken(ctx context.Context, accessToken, openID string) (bool, error) {
	var reply apiStatus
	err := c.get(ctx, "/sns/auth", url.Values{"access_token": {accessToken}, "openid": {openID}}, &reply)
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch apiErr.Code {
		case CodeInvalidCredential, CodeInvalidOpenID, CodeInvalidAccessToken, CodeAccessTokenExpired:
			return false, nil
		}
	}
	return err == nil, err
}

// maxReply bounds how much of a WeChat reply is read.
const maxReply = 1 << 20

// get calls endpoint with the query q and decodes the JSON reply into v,
// which must embed apiStatus. The URL never reaches an error: it holds the
// secret or tokens.
func (c *Client) get(ctx context.Context, endpoint string, q url.Values, v interface{ err(string) error }) error {
	// WeChat checks parameter order on some endpoints; keep the order we were given.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Endpoints.withDefaults().API+endpoint+"?"+encodeOrdered(q, endpointParams[endpoint]), nil)
	if err != nil {
		return fmt.Errorf("wechatauth: %s: building request: %w", endpoint, errUpstream)
	}
	return c.do(req, endpoint, v)
}

// do sends req and decodes its JSON reply into v.
func (c *Client) do(req *http.Request, endpoint string, v interface{ err(string) error }) error {
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // drop the URL: it carries credentials
		}
		return fmt.Errorf("wechatauth: %s: %w: %w", endpoint, errUpstream, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return fmt.Errorf("wechatauth: %s: reading reply: %w: %w", endpoint, errUpstream, err)
	}
	return decodeReply(endpoint, resp.StatusCode, body, v)
}

// decodeReply turns a WeChat reply into v, or into an *APIError when it
// carries an errcode. WeChat answers errors with HTTP 200 and may label JSON
// as text/plain, so the body is decoded whatever the Content-Type.
func decodeReply(endpoint string, status int, body []byte, v interface{ err(string) error }) error {
	if status != http.StatusOK {
		return fmt.Errorf("wechatauth: %s: HTTP status %d: %w", endpoint, status, errUpstream)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("wechatauth: %s: reply is not the expected JSON (%d bytes): %w", endpoint, len(body), errUpstream)
	}
	return v.err(endpoint)
}

// endpointParams lists each endpoint's query parameters in WeChat's documented order.
var endpointParams = map[string][]string{
	"/sns/oauth2/access_token":  {"appid", "secret", "code", "grant_type"},
	"/sns/oauth2/refresh_token": {"appid", "grant_type", "refresh_token"},
	"/sns/userinfo":             {"access_token", "openid", "lang"},
	"/sns/auth":                 {"access_token", "openid"},
	"/cgi-bin/token":            {"grant_type", "appid", "secret"},
	"/cgi-bin/menu/create":      {"access_token"},
}

// encodeOrdered encodes q with the keys in order, unlike url.Values.Encode,
// which sorts them.
func encodeOrdered(q url.Values, order []string) string {
	var b strings.Builder
	for _, k := range order {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
		}
	}
	return b.String()
}
