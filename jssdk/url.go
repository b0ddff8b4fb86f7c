package jssdk

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrBadURL marks a page URL that cannot be signed. The error that wraps
// it names the rule the URL broke and what to send instead; the handler
// answers such a URL with HTTP 400 and that message.
var ErrBadURL = errors.New("jssdk: the page URL cannot be signed")

// maxURL bounds the page URLs the Signer accepts, in bytes.
const maxURL = 4096

// badURL returns an error wrapping ErrBadURL that states the broken rule.
func badURL(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadURL, fmt.Sprintf(format, args...))
}

// origin returns the origin of u as browsers write it: lowercase scheme and
// host, and no port where it is the scheme's default.
func origin(u *url.URL) string {
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	}
	return scheme + "://" + host
}

// parseOrigin checks one of Options.Origins and returns it as origin
// writes it.
func parseOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "", fmt.Errorf("must be an http(s) origin such as \"https://example.com\", got %q", s)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#"):
		return "", fmt.Errorf("must be an origin, scheme and host only (the JS安全域名 with its scheme), got %q", s)
	}
	return origin(u), nil
}

// pageURL checks a page URL as the page reported it and returns what is
// signed: the URL itself without its fragment, never rebuilt. It is
// decoded once already (by the query it came in), and is not decoded
// again.
func (s *Signer) pageURL(raw string) (string, error) {
	if err := checkRaw(raw); err != nil {
		return "", err
	}
	if signed, ok := s.signedFast(raw); ok {
		return signed, nil
	}
	return s.parsePageURL(raw)
}

// checkRaw checks the rules of a page URL that hold before it is parsed.
func checkRaw(raw string) error {
	switch {
	case raw == "":
		return badURL("url is missing: pass the page's location.href, encoded once with encodeURIComponent")
	case len(raw) > maxURL:
		return badURL("url is %d bytes; at most %d", len(raw), maxURL)
	case strings.Contains(raw, "&amp;"):
		return badURL("url holds \"&amp;\": it was HTML-escaped; pass location.href as the browser reports it")
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] <= ' ' || raw[i] == 0x7f {
			return badURL("url holds spaces or control characters, which location.href never does")
		}
	}
	return nil
}

// parsePageURL is pageURL for a URL signedFast did not accept: it parses
// it, and names the rule it breaks.
func (s *Signer) parsePageURL(raw string) (string, error) {
	signed, _, _ := strings.Cut(raw, "#")
	u, err := url.Parse(signed)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		hint := ""
		if l := strings.ToLower(raw); strings.HasPrefix(l, "http%3a") || strings.HasPrefix(l, "https%3a") {
			hint = " (it looks encoded twice: encode it once)"
		}
		return "", badURL("url must be an absolute http(s) URL such as location.href%s", hint)
	}
	if u.User != nil {
		return "", badURL("url must not hold a user name or password")
	}
	if o := origin(u); !s.origins[o] {
		return "", &originError{origin: o, err: badURL("the origin %q is not one of Options.Origins (%s): sign only pages of this site, and list each JS安全域名 there", o, strings.Join(s.originList, ", "))}
	}
	return signed, nil
}

// originError is the ErrBadURL of a page whose origin is not one of
// Options.Origins.
type originError struct {
	origin string
	err    error
}

func (e *originError) Error() string { return e.err.Error() }
func (e *originError) Unwrap() error { return e.err }

// signedFast returns what pageURL returns for the common URL that it
// accepts, without parsing it: a lowercase http(s) scheme and an origin of
// Options.Origins written as parseOrigin writes it, then a path whose
// escapes are well-formed and any query. It reports false for anything
// else, which pageURL then parses; whatever it accepts, url.Parse and the
// rules of pageURL accept too (FuzzPageURL checks it).
func (s *Signer) signedFast(raw string) (string, bool) {
	signed, _, _ := strings.Cut(raw, "#")
	var rest string
	switch {
	case strings.HasPrefix(signed, "https://"):
		rest = signed[len("https://"):]
	case strings.HasPrefix(signed, "http://"):
		rest = signed[len("http://"):]
	default:
		return "", false
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	if !s.origins[signed[:len(signed)-len(rest)+end]] {
		return "", false
	}
	path, _, _ := strings.Cut(rest[end:], "?")
	for i := 0; i < len(path); i++ {
		if path[i] == '%' && (i+2 >= len(path) || !ishex(path[i+1]) || !ishex(path[i+2])) {
			return "", false
		}
	}
	return signed, true
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
