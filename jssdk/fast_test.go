package jssdk

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func fastSigner(t testing.TB) *Signer {
	s := &Signer{origins: map[string]bool{}}
	for _, o := range []string{"https://app.example", "http://127.0.0.1:8080", "https://[::1]:8443", "https://xn--fiqs8s.example"} {
		org, err := parseOrigin(o)
		if err != nil {
			t.Fatal(err)
		}
		s.origins[org] = true
		s.originList = append(s.originList, org)
	}
	return s
}

var pageURLSeeds = []string{
	"https://app.example/account/?from=singlemessage&isappinstalled=0",
	"https://app.example",
	"https://app.example?x=1",
	"https://app.example/a%zz",
	"https://app.example/a%2",
	"https://app.example/a%2F?q=%zz",
	"https://app.example//evil.example/",
	"https://app.example:443/",
	"https://APP.example/",
	"HTTPS://app.example/",
	"https://app.example@evil.example/",
	"https://user@app.example/",
	"https://app.example.evil.example/",
	"https://app.example:/",
	"https://app.example\\@evil.example/",
	"http://127.0.0.1:8080/x#frag",
	"http://127.0.0.1:8080#/route?x",
	"https://[::1]:8443/x",
	"https://xn--fiqs8s.example/路径",
	"https:app.example/",
	"https:///app.example/",
	"javascript://app.example/%0a",
}

// checkFastPath checks that whatever signedFast accepts, parsePageURL
// accepts with the same result.
func checkFastPath(t *testing.T, s *Signer, raw string) {
	if checkRaw(raw) != nil {
		return // refused before either path
	}
	fast, ok := s.signedFast(raw)
	if !ok {
		return
	}
	slow, err := s.parsePageURL(raw)
	if err != nil || slow != fast {
		t.Errorf("%q: the fast path signs %q, the full parse gives %q, %v", raw, fast, slow, err)
	}
}

func TestPageURLFastPathAgreesWithTheParse(t *testing.T) {
	s := fastSigner(t)
	for _, raw := range pageURLSeeds {
		checkFastPath(t, s, raw)
	}
	if _, ok := s.signedFast(pageURLSeeds[0]); !ok {
		t.Errorf("the fast path does not take the common URL %q", pageURLSeeds[0])
	}
}

func FuzzPageURL(f *testing.F) {
	for _, raw := range pageURLSeeds {
		f.Add(raw)
	}
	s := fastSigner(f)
	f.Fuzz(func(t *testing.T, raw string) { checkFastPath(t, s, raw) })
}

var querySeeds = []string{
	"url=https%3A%2F%2Fapp.example%2F%3Fa%3D1%26b%3D2&apis=getLocation,x&tags=",
	"url=a&url=b",
	"url=%zz&url=b",
	"u%72l=x",
	"url=a;b&url=c",
	"&&url=+x+&",
	"apis&url",
	"tags=a%2Cb&apis=",
	"",
	"url",
	"url=%",
	"url=x&sign=agent&agent=1&agentApis=a,b&sign=config",
	"sign=%zz&sign=config&agent=&agentApis",
}

func checkQuery(t *testing.T, raw string) {
	v, _ := url.ParseQuery(raw)
	got := parseConfigQuery(raw)
	if got.url != v.Get("url") || got.apis != v.Get("apis") || got.tags != v.Get("tags") {
		t.Errorf("%q: got %+v, want url %q, apis %q, tags %q as url.Values.Get gives", raw, got, v.Get("url"), v.Get("apis"), v.Get("tags"))
	}
	if got.sign != v.Get("sign") || got.agent != v.Get("agent") || got.agentAPIs != v.Get("agentApis") {
		t.Errorf("%q: got %+v, want sign %q, agent %q, agentApis %q as url.Values.Get gives", raw, got, v.Get("sign"), v.Get("agent"), v.Get("agentApis"))
	}
}

func TestConfigQueryAsURLValues(t *testing.T) {
	for _, raw := range querySeeds {
		checkQuery(t, raw)
	}
}

func FuzzConfigQuery(f *testing.F) {
	for _, raw := range querySeeds {
		f.Add(raw)
	}
	f.Fuzz(checkQuery)
}

// TestConfigJSONAsEncodingJSON: the config's JSON, written directly, is
// byte for byte what encoding/json writes, whatever the strings hold.
func TestConfigJSONAsEncodingJSON(t *testing.T) {
	for _, c := range []Config{
		{AppID: "wx0123456789abcdef", Timestamp: 1414587457, NonceStr: "Wm3WZYTPz0wzccnW", Signature: "0f9de62fce790f9a083d5c99e95740ceb90c27ed",
			JSAPIList: []string{"updateAppMessageShareData", "getLocation"}, OpenTagList: []string{}},
		{Debug: true, AppID: "wx1", Timestamp: -5, JSAPIList: nil, OpenTagList: []string{"wx-open-launch-weapp"}},
		{AppID: `a"b\c<d>&e` + "\x00\u2028é", NonceStr: "\x7f", Signature: strings.Repeat("0", 40), JSAPIList: []string{"</script>"}},
		{Beta: true, AppID: "ww0123456789abcdef", Timestamp: 1, JSAPIList: []string{}, OpenTagList: []string{}},
		{Debug: true, Beta: true, AppID: "ww1"},
	} {
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendConfig(nil, &c); string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		if n := configSize(&c); n < len(want) && !strings.ContainsAny(c.AppID, "\"<") {
			t.Errorf("configSize: got %d, want at least %d", n, len(want))
		}
	}
}

// TestAgentConfigJSONAsEncodingJSON: the same for WeCom's wx.agentConfig
// and ww.register's signatures.
func TestAgentConfigJSONAsEncodingJSON(t *testing.T) {
	for _, c := range []AgentConfig{
		{CorpID: "ww0123456789abcdef", AgentID: "1000002", Timestamp: 1414587457, NonceStr: "Wm3WZYTPz0wzccnW",
			Signature: "0f9de62fce790f9a083d5c99e95740ceb90c27ed", JSAPIList: []string{"selectExternalContact"}},
		{CorpID: `a"b\c<d>&e` + "\x00\u2028é", AgentID: "\x7f", Timestamp: -5, JSAPIList: nil},
		{JSAPIList: []string{}},
	} {
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendAgentConfig(nil, &c); string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		if n := agentConfigSize(&c); n < len(want) && !strings.ContainsAny(c.CorpID, "\"<") {
			t.Errorf("agentConfigSize: got %d, want at least %d", n, len(want))
		}
		signed, _ := json.Marshal(struct {
			Timestamp int64  `json:"timestamp"`
			NonceStr  string `json:"nonceStr"`
			Signature string `json:"signature"`
		}{c.Timestamp, c.NonceStr, c.Signature})
		if got := appendSigned(nil, c.Timestamp, c.NonceStr, c.Signature); string(got) != string(signed) {
			t.Errorf("got  %s\nwant %s", got, signed)
		}
	}
}
