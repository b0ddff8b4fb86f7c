package wechattest_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/internal/testclock"
	"github.com/wechatauth/wechatauth/wechattest"
)

// logLines is an io.Writer that hands each log record to the test.
type logLines chan string

func (c logLines) Write(b []byte) (int, error) {
	c <- string(b)
	return len(b), nil
}

// next returns the next log record, failing the test if none comes within
// a generous cap.
func (c logLines) next(t *testing.T) string {
	t.Helper()
	limit := testclock.Patience(time.Minute)
	select {
	case l := <-c:
		return l
	case <-time.After(limit):
		t.Fatal("no log record: " + testclock.RanOut("the emulator", limit, "a log record"))
		return ""
	}
}

func TestSetLoggerLogsEachRequest(t *testing.T) {
	s := newServer(t)
	s.SetCallbackDomain("app.example")
	lines := make(logLines, 16)
	s.SetLogger(slog.New(slog.NewTextHandler(lines, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	unanswered := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	tests := []struct {
		name string
		do   func(t *testing.T)
		want string
	}{
		{"API error", func(t *testing.T) { exchange(t, s, "not-a-code") },
			`msg=request method=GET path=/sns/oauth2/access_token errcode=40029 errmsg="invalid code"`},
		{"API success", func(t *testing.T) { globalToken(t, s) },
			"method=GET path=/cgi-bin/token errcode=0\n"},
		{"redirect", func(t *testing.T) { authorize(t, s, noRedirect(s), authQuery(s, "snsapi_base", "st")) },
			"method=GET path=/connect/oauth2/authorize status=302\n"},
		{"error page", func(t *testing.T) {
			authorize(t, s, noRedirect(s), strings.Replace(authQuery(s, "snsapi_base", "st"), "app.example", "pay.example", 1))
		}, "method=GET path=/connect/oauth2/authorize status=400 errcode=10003\n"},
		{"queued failure", func(t *testing.T) { s.FailNext(pathUserInfo, -1); call(t, s, pathUserInfo) },
			`path=/sns/userinfo errcode=-1 errmsg="system error"`},
		{"dropped", func(t *testing.T) {
			s.DropNext(pathGlobalToken)
			if resp, err := unanswered.Get(s.URL + pathGlobalToken); err == nil {
				resp.Body.Close()
				t.Fatal("GET after DropNext: got an answer, want none")
			}
		}, "path=/cgi-bin/token answer=dropped\n"},
		{"unknown path", func(t *testing.T) {
			if resp, err := s.Client().Get(s.URL + "/nowhere?secret=" + s.AppSecret); err == nil {
				resp.Body.Close()
			}
		}, "path=/nowhere status=404\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.do(t)
			got := lines.next(t)
			if !strings.Contains(got, tt.want) {
				t.Errorf("log: got %q, want %q", got, tt.want)
			}
			if strings.Contains(got, s.AppSecret) || strings.Contains(got, "?") {
				t.Errorf("log: got %q, which shows the query", got)
			}
		})
	}
	s.SetLogger(nil)
	globalToken(t, s)
	select {
	case l := <-lines:
		t.Errorf("after SetLogger(nil): got %q, want no record", l)
	default:
	}
}

// Only the emulator's user list, not the built-in user, after SetUsers.
func TestSetUsersReplacesTheBuiltInUser(t *testing.T) {
	s := newServer(t)
	s.SetUsers(wechattest.User{OpenID: "oAlice", Nickname: "Alice"}, wechattest.User{OpenID: "oBob", Nickname: "Bob"})
	if r := exchange(t, s, s.IssueCode("", "snsapi_base")); r.OpenID != "oAlice" {
		t.Errorf("the visitor's code: got openid %q, want oAlice, the first user", r.OpenID)
	}
	s.SetMode(wechattest.ConsentPage)
	p := authorize(t, s, noRedirect(s), authQuery(s, "snsapi_userinfo", "st"))
	if !strings.Contains(p.body, "oAlice") || !strings.Contains(p.body, "oBob") || strings.Contains(p.body, "oTestUser0000000000000000001") {
		t.Errorf("consent page: want oAlice and oBob and not the built-in user; got %q", p.body)
	}
	defer func() {
		if recover() == nil {
			t.Error("IssueCode for the built-in user after SetUsers: want a panic (no such user)")
		}
	}()
	s.IssueCode("oTestUser0000000000000000001", "snsapi_base")
}
