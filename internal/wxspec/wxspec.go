// Package wxspec holds facts of WeChat's API that the client, the
// middleware and the emulator all rely on: the alphabet of its identifiers
// (appids, openids, codes, tokens) and the limits of a menu.
package wxspec

// Valid reports whether s is 1 to max bytes of the URL-safe alphabet of
// WeChat's identifiers: letters, digits, '-' and '_'. Clients put such
// values into query strings without escaping.
func Valid(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// MaxOpenID is the longest openid the emulator issues or accepts.
const MaxOpenID = 64

// MaxToken bounds the identifiers the middleware accepts from requests
// and configuration.
const MaxToken = 256

// Limits of an Official Account's menu, in bytes where they are lengths.
const (
	MaxTopButtons = 3
	MaxSubButtons = 5
	MaxTopName    = 16
	MaxSubName    = 60
	MaxKey        = 128
	MaxURL        = 1024
)

// MaxUserID is the longest userid WeCom allows: 64 bytes.
const MaxUserID = 64

// ValidUserID reports whether s has the form of a WeCom userid or of a
// token (Valid): 1 to 64 bytes of letters, digits and "_-@.", starting with
// a letter, a digit, '-' or '_'. WeCom's own userids start with a letter
// or a digit.
func ValidUserID(s string) bool {
	if s == "" || len(s) > MaxUserID || s[0] == '.' || s[0] == '@' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '@') {
			return false
		}
	}
	return true
}
