package wecom

import (
	"context"
	"net/http"
	"strings"

	"github.com/wechatauth/wechatauth/internal/engine"
)

// The methods of face (see auth.go) make an Auth the face of the login
// flow (engine.Face): WeCom's members and non-members, the apps of its
// site, and what WeCom's errors mean.

// Encode, Decode and LoginKey keep a Member in the session and the
// CallbackStore (session.go).
func (f *face) Encode(m Member, profile bool) string { return encodeMember(m, profile) }
func (f *face) Decode(s string) (Member, bool)       { return decodeMember(s) }
func (f *face) LoginKey(session string) string {
	_, key := sessionTail(session)
	return key
}

// Key is Member.ID, which tells every kind of person apart; WeCom has no
// other name for a person (Alias) and no guests whose identity it makes
// up (non-members have an openid of the corp's).
func (f *face) Key(m Member) string { return m.ID() }
func (f *face) Alias(Member) string { return "" }
func (f *face) Guest(Member) bool   { return false }

// HasProfile reports whether the session's login allowed the sensitive
// fields (ScopePrivateInfo).
func (f *face) HasProfile(session string) (has, guest bool) {
	flags, _ := sessionTail(session)
	return strings.Contains(flags, "p"), false
}

func (f *face) AppFor(r *http.Request) engine.App[Member] {
	if ap := f.apps.appFor(r); ap != nil {
		return ap
	}
	return nil // not a nil *corpApp in an interface
}

func (f *face) App(name string) engine.App[Member] {
	if ap := f.apps.named(name); ap != nil {
		return ap
	}
	return nil
}

// Outside answers personal WeChat's browser (see appFor).
func (f *face) Outside(w http.ResponseWriter, r *http.Request) { f.apps.outside.ServeHTTP(w, r) }

func (f *face) Resolve(ctx context.Context, ap engine.App[Member], g engine.Grant[Member]) (Member, bool, error) {
	m, err := (*Auth)(f).resolve(ctx, ap.(*corpApp), g)
	return m, false, err
}

// DebugUser is the member a debug login of userID logs in:
// Options.DebugMember for its userid, a member with the userid only
// otherwise.
func (f *face) DebugUser(_ *http.Request, userID string) Member {
	if userID == f.opts.DebugMember.UserID {
		return f.opts.DebugMember
	}
	return Member{UserID: userID}
}

func (f *face) Errcode(err error) (int, bool) { return errcodeOf(err) }
func (f *face) Upstream(err error) bool       { return fromWeCom(err) }
