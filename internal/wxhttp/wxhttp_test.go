package wxhttp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

var errUpstream = errors.New("upstream")

var testAPI = &API{Name: "t", Upstream: errUpstream, Refused: func(s Status, endpoint string, secrets []string) error {
	return errors.New(Scrub(s.ErrMsg, secrets))
}}

// failing is a transport whose error repeats the request's URL and the
// secret, and is what it is told to be (a timeout, a cancellation).
type failing struct{ err error }

type timeoutErr struct{ msg string }

func (e timeoutErr) Error() string   { return e.msg }
func (e timeoutErr) Timeout() bool   { return true }
func (e timeoutErr) Temporary() bool { return true }

func (f failing) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, &url.Error{Op: "Get", URL: r.URL.String(), Err: f.err}
}

func TestTransportErrorsKeepTheirKindNotTheirSecrets(t *testing.T) {
	const secret = "s3cret/+value"
	for _, tc := range []struct {
		name    string
		err     error
		timeout bool
		is      error
	}{
		{"timeout", timeoutErr{"i/o timeout reading " + url.QueryEscape(secret)}, true, nil},
		{"deadline", context.DeadlineExceeded, true, context.DeadlineExceeded},
		{"cancelled", context.Canceled, false, context.Canceled},
		{"other", errors.New("refused, body " + secret), false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hc := &http.Client{Transport: failing{tc.err}}
			err := testAPI.Get(context.Background(), hc, "http://api.invalid", "/x", Query{"code", "CODE1234", "k", "v"}, []string{secret}, &Status{})
			if !errors.Is(err, errUpstream) {
				t.Fatalf("got %v, want the upstream error", err)
			}
			for _, s := range []string{secret, url.QueryEscape(secret), "CODE1234", "k=v"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q holds %q", err, s)
				}
			}
			var ne net.Error
			if !errors.As(err, &ne) || ne.Timeout() != tc.timeout {
				t.Errorf("got %v, want a net.Error with Timeout() %v", err, tc.timeout)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("got %v, want it to be %v", err, tc.is)
			}
		})
	}
}

func TestQueryKeepsItsOrder(t *testing.T) {
	q := Query{"z", "1", "a", "x y", "m", "&"}
	if got, want := q.Encode(), "z=1&a=x+y&m=%26"; got != want {
		t.Errorf("Encode: got %q, want %q", got, want)
	}
	if got, want := callURL("http://h", "/p", nil), "http://h/p"; got != want {
		t.Errorf("callURL without a query: got %q, want %q", got, want)
	}
	if got, want := strings.Join(q.Values(), ","), "1,x y,&"; got != want {
		t.Errorf("Values: got %q, want %q", got, want)
	}
}
