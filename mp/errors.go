package mp

import (
	"errors"
	"fmt"
)

// Error codes WeChat returns in the errcode field, named for the cases
// callers act on. Any other code still arrives as an [*Error].
const (
	CodeBusy                = -1    // system busy; retry later (a retried code then gives CodeCodeUsed)
	CodeInvalidCredential   = 40001 // access token invalid, or not the latest one
	CodeInvalidGrantType    = 40002 // grant_type is wrong
	CodeInvalidOpenID       = 40003 // openid unknown to this account, or token/openid mismatch
	CodeInvalidAppID        = 40013 // appid is wrong
	CodeInvalidAccessToken  = 40014 // access token malformed
	CodeInvalidCode         = 40029 // code unknown, expired or already used
	CodeInvalidRefreshToken = 40030 // refresh token unknown
	CodeInvalidAppSecret    = 40125 // app secret is wrong
	CodeCodeUsed            = 40163 // code already exchanged
	CodeIPNotAllowed        = 40164 // server IP not in the account's whitelist
	CodeMissingAppID        = 41002 // appid parameter missing
	CodeMissingSecret       = 41004 // secret parameter missing
	CodeMissingCode         = 41008 // code parameter missing
	CodeAccessTokenExpired  = 42001 // access token expired
	CodeRefreshTokenExpired = 42002 // refresh token expired: the user must authorize again
	CodeCodeExpired         = 42003 // code timed out
	CodeDailyQuota          = 45009 // daily API quota reached
	CodeMinuteQuota         = 45011 // per-minute API quota reached
	CodeNoMenu              = 46003 // the account has no menu (menu/get)
	CodeScopeUnauthorized   = 48001 // the token's scope does not allow this API (userinfo with snsapi_base)
	CodeSecretFrozen        = 40243 // the AppSecret is frozen
)

// Error is a reply from WeChat that carries a non-zero errcode. Compare
// Code with the Code constants; Msg is WeChat's errmsg, kept as evidence.
type Error struct {
	Code     int    // WeChat's errcode
	Msg      string // WeChat's errmsg
	Endpoint string // the API path that answered, such as "/sns/oauth2/access_token"
}

// Error reports the endpoint, WeChat's errcode and its errmsg.
func (e *Error) Error() string {
	return fmt.Sprintf("mp: %s: WeChat errcode %d: %s", e.Endpoint, e.Code, e.Msg)
}

// StaleAccessToken reports whether the errcode means that the access token
// sent no longer works ([CodeInvalidCredential], [CodeInvalidAccessToken],
// [CodeAccessTokenExpired]), which a fresh token may cure.
func (e *Error) StaleAccessToken() bool {
	switch e.Code {
	case CodeInvalidCredential, CodeInvalidAccessToken, CodeAccessTokenExpired:
		return true
	}
	return false
}

// SpentCode reports whether the errcode means that the web-auth code sent
// can no longer be exchanged: unknown or already used
// ([CodeInvalidCode]), exchanged before ([CodeCodeUsed]) or timed out
// ([CodeCodeExpired]). A fresh code, from a new trip through the
// authorize page, is the only cure; a second delivery of a callback
// whose code another delivery exchanged gets one of these.
func (e *Error) SpentCode() bool {
	switch e.Code {
	case CodeInvalidCode, CodeCodeUsed, CodeCodeExpired:
		return true
	}
	return false
}

// Misconfigured reports whether the errcode blames the caller's setup
// rather than the moment: a wrong or missing AppID or AppSecret, a frozen
// secret, or a server IP missing from the account's whitelist. Trying
// again does not help; a setting must change.
func (e *Error) Misconfigured() bool {
	switch e.Code {
	case CodeInvalidAppID, CodeMissingAppID, CodeInvalidAppSecret, CodeMissingSecret, CodeSecretFrozen, CodeIPNotAllowed:
		return true
	}
	return false
}

var (
	// ErrNotFound is returned by caches, and by the stores of package
	// wechatauth, when nothing is kept under the key.
	ErrNotFound = errors.New("not found")
	// ErrUpstream marks failures to reach WeChat or to read its answer:
	// the connection failed, the status was not 200, or the body was not
	// the JSON expected. WeChat's own refusals are [*Error] instead.
	ErrUpstream = errors.New("WeChat unreachable or its answer unreadable")
)
