package work

import (
	"fmt"
	"net"
	"strings"

	"github.com/wechatauth/wechatauth/mp"
)

// Error codes WeCom returns in the errcode field on the login path, named
// for the cases callers act on. Any other code still arrives as an
// [*Error]. Some numbers are the Official Account's with another meaning:
// compare with these, not with package mp's.
const (
	CodeBusy               = -1    // system busy; retry, at most 3 times
	CodeInvalidSecret      = 40001 // the Secret is wrong (not a stale token, as on the Official Account)
	CodeInvalidCorpID      = 40013 // the CorpID is wrong
	CodeInvalidAccessToken = 40014 // access_token invalid, or expired
	CodeInvalidCode        = 40029 // code unknown, already used or older than 5 minutes
	CodeSecretMismatch     = 40091 // the Secret is not valid for the CorpID (another corp's, say)
	CodeAccessTokenExpired = 42001 // access_token expired
	CodeAPIForbidden       = 48002 // the app may not call this API
	CodeUntrustedDomain    = 50001 // redirect_uri not under the app's trusted domain, or a code of another app
	CodeIPNotTrusted       = 60020 // the caller's IP is not in the app's trusted IPs (企业可信IP)
)

// Error is a reply from WeCom that carries a non-zero errcode. Compare
// Code with the Code constants; Msg is WeCom's errmsg, kept as evidence
// (its wording may change: act on Code). Error's text adds [Error.Fix]
// when the errcode names a setting to change.
type Error struct {
	Code     int    // WeCom's errcode
	Msg      string // WeCom's errmsg, with its "hint: […], from ip: …, more info at …" tail
	Endpoint string // the API path that answered, such as "/cgi-bin/auth/getuserinfo"
}

// Error reports the endpoint, WeCom's errcode, its errmsg and, for a
// misconfiguration, the fix.
func (e *Error) Error() string {
	s := fmt.Sprintf("work: %s: WeCom errcode %d: %s", e.Endpoint, e.Code, e.Msg)
	if fix := e.Fix(); fix != "" {
		s += "; fix: " + fix
	}
	return s
}

// StaleAccessToken reports whether the errcode means that the access
// token sent no longer works ([CodeInvalidAccessToken],
// [CodeAccessTokenExpired]), which a fresh token may cure: the calls that
// take an [mp.AccessTokenSource] then retry once with one.
func (e *Error) StaleAccessToken() bool {
	return e.Code == CodeInvalidAccessToken || e.Code == CodeAccessTokenExpired
}

// SpentCode reports whether the errcode means that the code sent can no
// longer be traded ([CodeInvalidCode]): used already, by this callback's
// earlier delivery or another server, or older than 5 minutes. A fresh
// code, from a new trip through the authorize page, is the only cure.
func (e *Error) SpentCode() bool { return e.Code == CodeInvalidCode }

// Misconfigured reports whether the errcode blames the app's setup rather
// than the moment: a wrong CorpID or Secret ([CodeInvalidSecret],
// [CodeInvalidCorpID], [CodeSecretMismatch]), a redirect_uri off the
// trusted domain or a code of another app ([CodeUntrustedDomain]), the
// server's IP missing from the trusted IPs ([CodeIPNotTrusted]) or a
// permission missing ([CodeAPIForbidden]). Trying again does not help;
// [Error.Fix] says what to change.
func (e *Error) Misconfigured() bool {
	switch e.Code {
	case CodeInvalidSecret, CodeInvalidCorpID, CodeSecretMismatch, CodeUntrustedDomain, CodeIPNotTrusted, CodeAPIForbidden:
		return true
	}
	return false
}

// Fix returns the setting to change for a misconfiguration (see
// [Error.Misconfigured]), in the words of WeCom's admin console, and ""
// for any other errcode. For [CodeIPNotTrusted] it names the address
// WeCom saw ([Error.FromIP]).
func (e *Error) Fix() string {
	switch e.Code {
	case CodeInvalidSecret:
		return "Client.Secret is not the app's Secret: copy it from 应用管理 → 应用 → the app → Secret (each app has its own; an Official Account's AppSecret does not work)"
	case CodeInvalidCorpID:
		return "Client.CorpID is wrong: copy the 企业ID from 我的企业 → 企业信息"
	case CodeSecretMismatch:
		return "Client.Secret does not belong to the corp of Client.CorpID: take both from the same corp's admin console (应用管理 → 应用 → the app → Secret)"
	case CodeUntrustedDomain:
		return "the redirect_uri's host, port included, must be the app's 可信域名 (应用管理 → 应用 → 网页授权及JS-SDK), and the code must come from a link built with this app's AgentID: CorpID, AgentID and Secret must all be of one app"
	case CodeIPNotTrusted:
		ip := e.FromIP()
		if ip == "" {
			ip = "this server's public IP"
		}
		return "add " + ip + " to the app's 企业可信IP (应用管理 → 应用 → 企业可信IP; the list can be edited once a 可信域名 or message URL is set)"
	case CodeAPIForbidden:
		return "the app may not call " + e.Endpoint + ": in 应用管理 → 应用, check that the app is enabled, has the API's permission, and that the member is in its 可见范围"
	}
	return ""
}

// FromIP returns the address WeCom saw the call come from, as the
// "from ip: A.B.C.D" of its errmsg says, or "" when the errmsg names none.
// For [CodeIPNotTrusted] it is the address to add to the app's trusted IPs:
// the server's public egress address, which may differ from any address
// the server knows itself by.
func (e *Error) FromIP() string {
	const marker = "from ip:"
	i := strings.LastIndex(e.Msg, marker)
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(e.Msg[i+len(marker):], " ")
	if end := strings.IndexAny(rest, ", \t\n;)"); end >= 0 {
		rest = rest[:end]
	}
	if net.ParseIP(rest) == nil {
		return ""
	}
	return rest
}

// Refusal returns the errcode, the errmsg and the API path, for package
// mp's credential mechanism: *Error is an [mp.Refusal], so that a source
// backs off from WeCom's refusals and [mp.WithAccessToken] retries a stale
// token.
func (e *Error) Refusal() (code int, msg, endpoint string) { return e.Code, e.Msg, e.Endpoint }

var _ mp.Refusal = (*Error)(nil)
