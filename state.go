package wechatauth

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
)

// stateBytes is the entropy of a state: 192 bits, written as 48 hex
// digits, within WeChat's limit of 128 characters from [A-Za-z0-9].
const stateBytes = 24

func newState() string {
	b := make([]byte, stateBytes)
	rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return hex.EncodeToString(b)
}

// validState reports whether s has the shape of a state this package issues.
func validState(s string) bool {
	if len(s) != 2*stateBytes {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// maxReturnLen bounds the return URL kept in the session.
const maxReturnLen = 2048

// safeReturn returns s when it is a path (with optional query) on this
// site, and "/" otherwise: nothing that a browser could read as another
// host, scheme or a script, whatever the encoding.
func safeReturn(s string) string {
	if s == "" || len(s) > maxReturnLen || s[0] != '/' {
		return "/"
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return "/"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || u.Fragment != "" {
		return "/"
	}
	// An escaped slash or backslash at the start can be decoded into "//"
	// by a server or proxy down the line.
	if p := u.Path; len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return "/"
	}
	return s
}
