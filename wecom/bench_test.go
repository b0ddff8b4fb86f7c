package wecom_test

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/wechatauth/wechatauth/internal/sitetest"
	"github.com/wechatauth/wechatauth/wecom"
)

// floorSetup returns the floor of the authenticated path, as for the
// Official Account, and a request whose session holds a userid.
func floorSetup(tb testing.TB) (http.Handler, *http.Request) {
	tb.Helper()
	return sitetest.Floor(tb, nil, "userid", "zhangsan")
}

// middlewareSetup returns LoadAndSave + RequireMember around next and a
// request of a browser logged in through the emulator.
func middlewareSetup(tb testing.TB, configure func(*wecom.Options), next http.Handler) (http.Handler, *http.Request) {
	tb.Helper()
	h := newHarness(tb, func(o *wecom.Options) {
		o.Logger = slog.New(slog.DiscardHandler)
		if configure != nil {
			configure(o)
		}
	})
	c := h.login("/account/")
	cookie := &http.Cookie{Name: h.opts.Sessions.Cookie.Name, Value: h.cookie(c)}
	return h.opts.Sessions.LoadAndSave(h.auth.RequireMember(next)), sitetest.Request(cookie)
}

func BenchmarkAuthenticatedFloor(b *testing.B) {
	h, r := floorSetup(b)
	sitetest.Serve(b, h, r, http.StatusOK)
}

func BenchmarkAuthenticatedRequireMember(b *testing.B) {
	h, r := middlewareSetup(b, nil, sitetest.Nothing)
	sitetest.Serve(b, h, r, http.StatusOK)
}

// memberFromHandler reads the member, as every protected handler does.
var memberFromHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if m, ok := wecom.MemberFrom(r); !ok || m.UserID == "" {
		http.Error(w, "no member", http.StatusInternalServerError)
	}
})

func BenchmarkAuthenticatedMemberFrom(b *testing.B) {
	h, r := middlewareSetup(b, nil, memberFromHandler)
	sitetest.Serve(b, h, r, http.StatusOK)
}

// With Options.Profile the member has a name and departments: decoding
// the departments is the one allocation MemberFrom adds.
func BenchmarkAuthenticatedMemberFromProfile(b *testing.B) {
	h, r := middlewareSetup(b, func(o *wecom.Options) { o.Profile = true }, memberFromHandler)
	sitetest.Serve(b, h, r, http.StatusOK)
}

// BenchmarkAuthenticatedRatio alternates the floor and the middleware in
// rounds within one process and reports the median and spread of the
// per-round ratio of their ns/op, as the Official Account's does.
func BenchmarkAuthenticatedRatio(b *testing.B) {
	floor, floorReq := floorSetup(b)
	mw, mwReq := middlewareSetup(b, nil, sitetest.Nothing)
	sitetest.MiddlewareRatio(b, floor, floorReq, mw, mwReq)
}

// BenchmarkAuthenticatedRatioMemberFrom is the ratio with MemberFrom in
// the handler.
func BenchmarkAuthenticatedRatioMemberFrom(b *testing.B) {
	floor, floorReq := floorSetup(b)
	mw, mwReq := middlewareSetup(b, nil, memberFromHandler)
	sitetest.MiddlewareRatio(b, floor, floorReq, mw, mwReq)
}
