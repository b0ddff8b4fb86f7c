package mp

import (
	"context"
	"net/http"
	"time"

	"github.com/wechatauth/wechatauth/internal/wxhttp"
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
	// Component, when set, makes the Client a third-party platform's for
	// the Official Account AppID, which authorized the platform
	// (component mode): AuthorizeURL adds the component_appid, Exchange
	// and Refresh go through the component endpoints with the platform's
	// component_access_token, and AppSecret is not used. Default: none.
	Component Component

	now wxhttp.Clock // clock for expiry; nil means time.Now
}

func (c *Client) clock() time.Time { return c.now.Now() }

// query is a URL query as key, value, key, value..., in the order WeChat
// documents: some endpoints check it, and url.Values.Encode would sort.
type query = wxhttp.Query

// apiStatus is the errcode and errmsg every reply may carry; reply is
// what get and post decode into, a struct that embeds apiStatus.
type (
	apiStatus = wxhttp.Status
	reply     = wxhttp.Reply
)

// api is how this package calls WeChat: its errors start with "mp" and
// wrap ErrUpstream, and an errcode is an *Error.
var api = &wxhttp.API{
	Name:     "mp",
	Upstream: ErrUpstream,
	Refused: func(s wxhttp.Status, endpoint string, _ []string) error {
		return &Error{Code: s.ErrCode, Msg: s.ErrMsg, Endpoint: endpoint}
	},
}

// get calls endpoint with q and decodes the JSON reply into v.
func (c *Client) get(ctx context.Context, endpoint string, q query, v reply) error {
	return api.Get(ctx, c.HTTPClient, c.Endpoints.WithDefaults().API, endpoint, q, nil, v)
}

// post sends body as JSON to endpoint with q and decodes the reply into v.
// secrets are the body's values that no error may show.
func (c *Client) post(ctx context.Context, endpoint string, q query, body any, secrets []string, v reply) error {
	return api.Post(ctx, c.HTTPClient, c.Endpoints.WithDefaults().API, endpoint, q, body, secrets, v)
}

// decodeReply turns a WeChat reply into v, or into an *Error when it
// carries an errcode, as get and post do once they have read it.
func decodeReply(endpoint string, status int, body []byte, v reply) error {
	return api.Decode(endpoint, status, body, nil, v)
}
