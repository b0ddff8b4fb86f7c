package wechattest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// POST /_emulator/advance moves the clock from outside, as Advance does.
func TestAdvanceEndpoint(t *testing.T) {
	s := newServer(t)
	tok := login(t, s, "", "snsapi_base")
	wantErrcode(t, call(t, s, pathAuth, "access_token", tok.AccessToken, "openid", tok.OpenID), 0)

	before := time.Now() // the emulator reads its clock after this, however long the answer takes
	resp, err := s.Client().Post(s.URL+"/_emulator/advance?d=2h1s", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Advanced, Now string }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("advance: HTTP %d, %v; want 200 and JSON", resp.StatusCode, err)
	}
	now, err := time.Parse(time.RFC3339, got.Now)
	if got.Advanced != "2h0m1s" || err != nil || now.Before(before.Add(2*time.Hour)) {
		t.Errorf("advance: got %+v, want advanced 2h0m1s and a time two hours ahead", got)
	}
	wantErrcode(t, call(t, s, pathAuth, "access_token", tok.AccessToken, "openid", tok.OpenID), 42001)

	for _, tt := range []struct {
		method, query string
		want          int
	}{
		{http.MethodPost, "", http.StatusBadRequest},
		{http.MethodPost, "d=2", http.StatusBadRequest},
		{http.MethodPost, "d=-1h", http.StatusBadRequest},
		{http.MethodGet, "d=1h", http.StatusMethodNotAllowed},
	} {
		req, err := http.NewRequest(tt.method, s.URL+"/_emulator/advance?"+tt.query, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s ?%s: got HTTP %d %q, want %d", tt.method, tt.query, resp.StatusCode, body, tt.want)
		}
		if tt.want == http.StatusBadRequest && !strings.Contains(string(body), "positive duration") {
			t.Errorf("%s ?%s: got %q, want it to say what d must be", tt.method, tt.query, body)
		}
	}
}
