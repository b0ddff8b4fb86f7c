package engine

import (
	"errors"
	"strconv"
	"strings"
)

// loginRecord is how a login was completed, kept in the CallbackStore for
// the deliveries of the same callback that come after the first.
type loginRecord[U any] struct {
	User     U
	Return   string // a same-origin path and query, as SafeReturn passes it
	Browser  string // pendingLogin.browser of the browser that started the login
	Code     string // codeHash of the code that was exchanged
	App      string // the name of the app the login went through (App.Name)
	Snapshot bool   // a guest's login (Face.Guest)
	// Consent means the login needs a round trip of Config.ProfileScope
	// first (see Face.Resolve).
	Consent bool
	// Refused marks a second code that WeChat refused, so that replaying
	// it does not reach WeChat again.
	Refused bool
	// Closed marks a login that was logged out: no delivery joins it again.
	Closed bool
	// Denied marks a login that Config.OnLogin refused.
	Denied bool
	// Profile means the login's scope allowed the profile.
	Profile bool
	// Done is when the login completed, in Unix milliseconds.
	Done int64

	key string // the CallbackStore key it is kept under; not stored
}

// A loginRecord is stored as one line of fields, "r3 browser code app
// flags done return", then the user as Face.Encode writes it. The return
// path holds no space.
const recordVersion = "r3"

func (rec *loginRecord[U]) encode(face Face[U]) []byte {
	browser, code, app, flags := orDash(rec.Browser), orDash(rec.Code), orDash(rec.App), ""
	for _, f := range rec.flags() {
		if *f.on {
			flags += string(f.letter)
		}
	}
	if flags == "" {
		flags = "-"
	}
	return []byte(recordVersion + " " + browser + " " + code + " " + app + " " + flags + " " + strconv.FormatInt(rec.Done, 10) + " " + rec.Return + "\n" + face.Encode(rec.User, false))
}

// flags pairs each of rec's flags with the letter that stands for it in
// the stored line.
func (rec *loginRecord[U]) flags() []struct {
	on     *bool
	letter byte
} {
	return []struct {
		on     *bool
		letter byte
	}{{&rec.Snapshot, 's'}, {&rec.Consent, 'c'}, {&rec.Refused, 'x'}, {&rec.Closed, 'o'}, {&rec.Denied, 'd'}, {&rec.Profile, 'p'}}
}

func decodeRecord[U any](b []byte, face Face[U]) (*loginRecord[U], error) {
	head, user, _ := strings.Cut(string(b), "\n")
	f := strings.SplitN(head, " ", 7)
	if len(f) != 7 || f[0] != recordVersion {
		return nil, errors.New("wechatauth: callback store: unreadable record")
	}
	done, err := strconv.ParseInt(f[5], 10, 64)
	if err != nil {
		return nil, errors.New("wechatauth: callback store: unreadable record")
	}
	refused := strings.Contains(f[4], "x")
	u, ok := face.Decode(user)
	if !ok && !refused {
		return nil, errors.New("wechatauth: callback store: unreadable record")
	}
	rec := &loginRecord[U]{User: u, Browser: undash(f[1]), Code: undash(f[2]), App: undash(f[3]), Return: f[6], Done: done}
	for _, fl := range rec.flags() {
		*fl.on = strings.IndexByte(f[4], fl.letter) >= 0
	}
	return rec, nil
}

// orDash and undash stand "-" in for an empty field of a stored line.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func undash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}
