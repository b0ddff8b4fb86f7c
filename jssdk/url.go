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
	switch {
	case raw == "":
		return "", badURL("url is missing: pass the page's location.href, encoded once with encodeURIComponent")
	case len(raw) > maxURL:
		return "", badURL("url is %d bytes; at most %d", len(raw), maxURL)
	case strings.Contains(raw, "&amp;"):
		return "", badURL("url holds \"&amp;\": it was HTML-escaped; pass location.href as the browser reports it")
	case strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "", badURL("url holds spaces or control characters, which location.href never does")
	}
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
		return "", badURL("the origin %q is not one of Options.Origins (%s): sign only pages of this site, and list each JS安全域名 there", o, strings.Join(s.originList, ", "))
	}
	return signed, nil
}
