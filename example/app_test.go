package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestNewAppRejectsBadConfig(t *testing.T) {
	_, _, err := newApp(config{CallbackURL: "http://127.0.0.1:8080/wechat/callback"})
	if err == nil || !strings.Contains(err.Error(), "AppID") {
		t.Errorf("newApp without AppID: got %v, want an error naming AppID", err)
	}
}

func TestStartEmulatorChecksCallbackDomain(t *testing.T) {
	if _, err := startEmulator("/wechat/callback"); err == nil {
		t.Errorf("startEmulator with a relative callback URL: got no error, want one")
	}
	wx, err := startEmulator("http://127.0.0.1:8080/wechat/callback")
	if err != nil {
		t.Fatal(err)
	}
	defer wx.Close()
	for _, tt := range []struct {
		redirectURI string
		want        int
	}{
		{"http://127.0.0.1:8080/wechat/callback", http.StatusOK}, // the consent page
		{"http://127.0.0.1:9999/wechat/callback", http.StatusBadRequest},
	} {
		resp, err := wx.Client().Get(wx.URL + "/connect/oauth2/authorize?appid=" + wx.AppID +
			"&redirect_uri=" + url.QueryEscape(tt.redirectURI) + "&response_type=code&scope=snsapi_userinfo&state=s1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: got HTTP %d, want %d: %q", tt.redirectURI, resp.StatusCode, tt.want, body)
		}
		if tt.want == http.StatusBadRequest && !strings.Contains(string(body), "10003") {
			t.Errorf("%s: got %q, want the 10003 page", tt.redirectURI, body)
		}
	}
}
