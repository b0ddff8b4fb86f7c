package component

import (
	"errors"
	"fmt"

	"github.com/wechatauth/wechatauth/mp"
)

// Error codes of the component API, named for the cases callers act on.
// Any other code still arrives as an [*Error].
const (
	CodeBusy                 = -1    // system busy; retry
	CodeInvalidCredential    = 40001 // the component_access_token sent is not the current one
	CodeInvalidSecret        = 40125 // component_appsecret is wrong
	CodeAccessTokenExpired   = 42001 // the component_access_token expired
	CodeMissingSecret        = 41004 // component_appsecret missing
	CodeMissingComponent     = 41018 // component_appid missing
	CodeQuota                = 45009 // the daily quota of api_component_token is spent
	CodeIPNotWhitelisted     = 61004 // the caller's IP is not in the platform's whitelist
	CodeVerifyTicketExpired  = 61005 // component_verify_ticket older than 12 hours
	CodeVerifyTicketInvalid  = 61006 // component_verify_ticket unknown to WeChat
	CodeInvalidComponent     = 61011 // component_appid is not a third-party platform
	CodePlatformAppIDAsAppID = 61024 // the component appid used where an Official Account's belongs

	CodeNotAuthorizedByAccount   = 61003 // the Official Account has not authorized the platform (or revoked it)
	CodeAuthorizationCodeInvalid = 61009 // the authorization_code of api_query_auth is not valid
	CodeAuthorizationCodeExpired = 61010 // the authorization_code of api_query_auth expired or was used
	CodeInvalidRefreshToken      = 61023 // the authorizer_refresh_token is not valid: the authorization was revoked or replaced
)

// Error is a reply of the component API that carries a non-zero errcode.
// Compare Code with the Code constants; Msg is WeChat's errmsg, kept as
// evidence. Error's text adds [Error.Fix] when the errcode names
// something to change. It never holds the secret or the verify ticket.
type Error struct {
	Code     int    // WeChat's errcode
	Msg      string // WeChat's errmsg
	Endpoint string // the API path that answered, such as "/cgi-bin/component/api_component_token"
}

// Error reports the endpoint, the errcode, the errmsg and, when there is
// one, the fix.
func (e *Error) Error() string {
	s := fmt.Sprintf("component: %s: WeChat errcode %d: %s", e.Endpoint, e.Code, e.Msg)
	if fix := e.Fix(); fix != "" {
		s += "; fix: " + fix
	}
	return s
}

// StaleAccessToken reports whether the errcode means that the
// component_access_token sent no longer works, which a fresh one may
// cure.
func (e *Error) StaleAccessToken() bool {
	return e.Code == CodeInvalidCredential || e.Code == CodeAccessTokenExpired
}

// StaleTicket reports whether WeChat refused the component_verify_ticket
// sent: expired ([CodeVerifyTicketExpired]) or unknown
// ([CodeVerifyTicketInvalid]). Only a newer push cures it.
func (e *Error) StaleTicket() bool {
	return e.Code == CodeVerifyTicketExpired || e.Code == CodeVerifyTicketInvalid
}

// Fix returns what to change or check for the errcodes that name it, and
// "" for others.
func (e *Error) Fix() string {
	switch e.Code {
	case CodeVerifyTicketExpired:
		return "the latest component_verify_ticket is older than 12 hours: WeChat pushes one every 10 minutes to the platform's 授权事件接收URL, where PushHandler must answer; check the handler's log for refused pushes and that WeChat's servers can reach the URL"
	case CodeVerifyTicketInvalid:
		return "WeChat does not know the component_verify_ticket sent: it must be the one WeChat pushed to this platform's 授权事件接收URL (PushHandler), with this component appid; wait for the next push (every 10 minutes)"
	case CodeInvalidSecret, CodeMissingSecret:
		return "Options.AppSecret is not the platform's AppSecret: copy it from the Open Platform, 管理中心 → 第三方平台 → the platform → 开发资料"
	case CodeInvalidComponent, CodeMissingComponent:
		return "Options.AppID is not a third-party platform's component appid (开发资料 on the Open Platform)"
	case CodeIPNotWhitelisted:
		return "add this server's public IP to the platform's 授权测试公众号/白名单 (开发资料 → 白名单IP地址列表)"
	case CodeNotAuthorizedByAccount, CodeInvalidRefreshToken:
		return "the Official Account revoked the platform's authorization, or authorized it again (which replaces the refresh token): it must authorize the platform again, and the new authorization's refresh token must reach QueryAuth (mount PushHandler)"
	case CodePlatformAppIDAsAppID:
		return "the component appid was used as an Official Account's appid: give the authorizer's appid there"
	}
	return ""
}

// Refusal returns the errcode, the errmsg and the API path, for package
// mp's credential mechanism: *Error is an [mp.Refusal].
func (e *Error) Refusal() (code int, msg, endpoint string) { return e.Code, e.Msg, e.Endpoint }

var _ mp.Refusal = (*Error)(nil)

// ErrNoTicket is wrapped by the error of a component_access_token fetch
// that found no component_verify_ticket stored: none has been pushed
// yet, or none reached [Platform.PushHandler].
var ErrNoTicket = errors.New("component: no component_verify_ticket yet")

// noTicketError is ErrNoTicket with where the pushes should arrive.
type noTicketError struct{ pushURL string }

func (e *noTicketError) Error() string {
	where := e.pushURL
	if where == "" {
		where = "the platform's 授权事件接收URL (mount Platform.PushHandler there)"
	}
	return "component: no component_verify_ticket yet: WeChat pushes one every 10 minutes to " + where +
		"; until the first push arrives there is no component_access_token"
}

func (e *noTicketError) Is(target error) bool { return target == ErrNoTicket }
