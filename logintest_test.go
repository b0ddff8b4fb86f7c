package wechatauth_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/logintest"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

// driver is the harness as the shared suite of the login flow's
// protections drives it (package internal/logintest).
type driver struct{ *harness }

func (d driver) App() string                      { return d.app.URL }
func (d driver) Browser(follow bool) *http.Client { return d.browser(follow) }
func (d driver) LoginURL(returnTo string) string  { return d.auth.LoginURL(returnTo) }
func (d driver) Authorize() string                { return d.wx.Endpoints().Authorize }
func (d driver) Exchanges() int                   { return d.exchanges() }
func (d driver) LoggedIn(body string) bool {
	return strings.Contains(body, "openid=oTestUser0000000000000000001 ")
}
func (d driver) SetClock(now func() time.Time) { wechatauth.SetClock(d.auth, now) }
func (d driver) FailExchanges(n int) {
	for range n {
		d.wx.FailNext("/sns/oauth2/access_token", mp.CodeInvalidCode)
	}
}
func (d driver) Refuse(on bool)            { d.wx.SetMode(emulatorMode(on)) }
func (d driver) SessionCookie() string     { return d.opts.Sessions.Cookie.Name }
func (d driver) LoginCookiePrefix() string { return "wechatauth-login-" }
func (d driver) IssueCode() string         { return d.wx.IssueCode("", "snsapi_base") }

// emulatorMode is the emulator's mode that declines logins, or approves
// them at once.
func emulatorMode(refuse bool) wechattest.Mode {
	if refuse {
		return wechattest.Refuse
	}
	return wechattest.AutoApprove
}

// The flow's protections, as the suite shared with WeCom's face shows them.
func TestLoginSuite(t *testing.T) {
	logintest.Run(t, func(t *testing.T) logintest.Driver { return driver{newHarness(t, nil)} })
}
