package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestRunAuthorizers: the banner names the platform's authorizers beside
// the component appid line with each one's refresh token, and
// api_authorizer_token is served (refusing a call without a component
// token).
func TestRunAuthorizers(t *testing.T) {
	s := start(t)
	m := regexp.MustCompile(`(?m)^  authorizers     (\S+) (\S+) \(`).FindStringSubmatch(s.banner)
	if m == nil || m[1] != "wx00000000000000a1" || m[2] != "wx00000000000000a2" {
		t.Fatalf("banner has no authorizers line with the two defaults: %q", s.banner)
	}
	if !strings.Contains(s.banner, "component appid") || strings.Index(s.banner, "component appid") > strings.Index(s.banner, "authorizers") {
		t.Errorf("the authorizers line should follow the component appid line: %q", s.banner)
	}
	rt := regexp.MustCompile(`(?m)^  authorizer      wx00000000000000a2  refresh token (\S+) `).FindStringSubmatch(s.banner)
	if rt == nil {
		t.Fatalf("banner has no refresh token of wx00000000000000a2: %q", s.banner)
	}
	// Without a component token the call is refused: the token is for a
	// platform, which gets one from api_component_token.
	resp, err := http.Post(s.url+"/cgi-bin/component/api_authorizer_token?component_access_token=none", "application/json",
		strings.NewReader(`{"component_appid":"wx00000000000000c1","authorizer_appid":"wx00000000000000a2","authorizer_refresh_token":"`+rt[1]+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct{ ErrCode int }
	if json.Unmarshal(body, &r) != nil || r.ErrCode != 40001 {
		t.Errorf("api_authorizer_token with no component token: %s", body)
	}
}
