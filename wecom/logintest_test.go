package wecom_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/internal/logintest"
	"github.com/wechatauth/wechatauth/wechattest"
	"github.com/wechatauth/wechatauth/wecom"
	"github.com/wechatauth/wechatauth/work"
)

// driver is the harness as the shared suite of the login flow's
// protections drives it (package internal/logintest): the same tests
// that the Official Account's face passes.
type driver struct{ *harness }

func (d driver) App() string                      { return d.app.URL }
func (d driver) Browser(follow bool) *http.Client { return d.browser(follow) }
func (d driver) LoginURL(returnTo string) string  { return d.auth.LoginURL(returnTo) }
func (d driver) Authorize() string                { return d.wx.WeComEndpoints().Authorize }
func (d driver) Exchanges() int                   { return d.exchanges() }
func (d driver) LoggedIn(body string) bool        { return strings.Contains(body, " userid=zhangsan ") }
func (d driver) SetClock(now func() time.Time)    { wecom.SetClock(d.auth, now) }
func (d driver) FailExchanges(n int) {
	for range n {
		d.wx.FailNext("/cgi-bin/auth/getuserinfo", work.CodeInvalidCode)
	}
}
func (d driver) SessionCookie() string     { return d.opts.Sessions.Cookie.Name }
func (d driver) LoginCookiePrefix() string { return "wechatauth-wecom-login-" }
func (d driver) IssueCode() string         { return d.wx.IssueWeComCode("", "snsapi_base") }
func (d driver) Refuse(on bool) {
	if on {
		d.wx.SetMode(wechattest.Refuse)
	} else {
		d.wx.SetMode(wechattest.AutoApprove)
	}
}

func TestLoginSuite(t *testing.T) {
	logintest.Run(t, func(t *testing.T) logintest.Driver { return driver{newHarness(t, nil)} })
}

// The suite through the Web login, as desktop browsers log in.
func TestLoginSuiteWebLogin(t *testing.T) {
	logintest.Run(t, func(t *testing.T) logintest.Driver { return webDriver{driver{newHarness(t, nil)}} })
}

// webDriver is driver with desktop browsers, which log in through WeCom's
// Web login.
type webDriver struct{ driver }

func (d webDriver) Browser(follow bool) *http.Client { return d.browserAs(uaDesktop, follow) }
func (d webDriver) Authorize() string                { return d.wx.WeComEndpoints().WebLogin }
func (d webDriver) IssueCode() string                { return d.wx.IssueWeComCode("", "CorpApp") }
