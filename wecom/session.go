package wecom

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/wechatauth/wechatauth/internal/engine"
)

// The session holds the member as one string, so that the authenticated
// path reads one key: the fields in a fixed order, separated by a byte
// that the encoder removes from the values, as the Official Account's
// face keeps its users ("u1"). "w1" is this face's first version.
const (
	memberSep     = "\x1f"
	memberVersion = "w1"
	memberFields  = 15 // the version, 13 values and the flags
)

// encodeMember writes m; profile says the login's scope allowed the
// sensitive fields (a ScopePrivateInfo login from inside WeCom).
func encodeMember(m Member, profile bool) string {
	clean := func(s string) string {
		if strings.Contains(s, memberSep) {
			return strings.ReplaceAll(s, memberSep, "")
		}
		return s
	}
	var dept strings.Builder
	for i, d := range m.Department {
		if i > 0 {
			dept.WriteByte(',')
		}
		dept.WriteString(strconv.FormatInt(d, 10))
	}
	flags := "-"
	if profile {
		flags = "p"
	}
	p := m.Private
	return strings.Join([]string{memberVersion,
		clean(m.UserID), clean(m.CorpID), clean(m.OpenID), clean(m.ExternalUserID),
		clean(m.Name), dept.String(),
		clean(p.Gender), clean(p.Avatar), clean(p.QRCode), clean(p.Mobile), clean(p.Email), clean(p.BizMail), clean(p.Address),
		flags}, memberSep)
}

// decodeMember reads what encodeMember wrote, ignoring what a session
// adds after it (the login's key). It allocates only for departments.
func decodeMember(s string) (Member, bool) {
	var f [memberFields]string
	for i := range f[:memberFields-1] {
		var ok bool
		f[i], s, ok = strings.Cut(s, memberSep)
		if !ok {
			return Member{}, false
		}
	}
	f[memberFields-1], _, _ = strings.Cut(s, memberSep)
	// Exactly one of a userid and an openid; a corp only with a userid.
	if f[0] != memberVersion || (f[1] == "") == (f[3] == "") || (f[2] != "" && f[1] == "") {
		return Member{}, false
	}
	m := Member{UserID: f[1], CorpID: f[2], OpenID: f[3], ExternalUserID: f[4], Name: f[5],
		Private: Private{Gender: f[7], Avatar: f[8], QRCode: f[9], Mobile: f[10], Email: f[11], BizMail: f[12], Address: f[13]}}
	if dept := f[6]; dept != "" {
		m.Department = make([]int64, 0, strings.Count(dept, ",")+1)
		for dept != "" {
			var d string
			d, dept, _ = strings.Cut(dept, ",")
			if n, err := strconv.ParseInt(d, 10, 64); err == nil {
				m.Department = append(m.Department, n)
			}
		}
	}
	return m, true
}

// sessionTail returns the flags and the login key of a session's value.
func sessionTail(s string) (flags, loginKey string) {
	for range memberFields - 1 {
		_, s, _ = strings.Cut(s, memberSep)
	}
	flags, loginKey, _ = strings.Cut(s, memberSep)
	return flags, loginKey
}

// MemberFrom returns the logged-in member (or non-member, where
// Options.AllowNonMembers lets them in) of a request that RequireMember
// let through: one context lookup and one session read, no store and no
// network. Outside that middleware ok is always false and m empty: on a
// route that serves visitors logged in or not, use (*Auth).CurrentMember.
// In debug mode (Options.DebugBypass), the first call on a request that
// the Auth handed to one of the Options hooks is logged as a warning.
func MemberFrom(r *http.Request) (m Member, ok bool) { return engine.UserFrom[Member](r) }

// CurrentMember returns the logged-in member of any request inside
// Options.Sessions.LoadAndSave, such as a page that greets members who
// are logged in but does not require it. ok is false when nobody is
// logged in through this Auth.
func (a *Auth) CurrentMember(r *http.Request) (m Member, ok bool) { return a.e.CurrentUser(r) }

// Logout ends the WeCom login of r's session: the member is forgotten,
// the session token is renewed, and no later delivery of the login's
// callback logs anyone in again. Other session data, an Official
// Account's login on the same site included, stays. r must be inside
// Options.Sessions.LoadAndSave.
func (a *Auth) Logout(r *http.Request) error { return a.e.Logout(r) }
