package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wechatauth/wechatauth/wechattest"
)

const (
	pathToken  = "/cgi-bin/token"
	pathStable = "/cgi-bin/stable_token"
	pathMenu   = "/cgi-bin/menu/create"

	// secret is the emulator's AppSecret in these tests: distinctive, so a
	// leak into the output is found.
	secret = "s3cret-that-must-never-be-printed"
)

// emulator starts a WeChat emulator with the test secret.
func emulator(t *testing.T) *wechattest.Server {
	t.Helper()
	wx, err := wechattest.NewUnstartedServer("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wx.AppSecret = secret
	wx.Start()
	t.Cleanup(wx.Close)
	return wx
}

// envOf serves the emulator's credentials as the environment.
func envOf(wx *wechattest.Server) func(string) string {
	return func(key string) string {
		return map[string]string{"WECHAT_APPID": wx.AppID, "WECHAT_SECRET": wx.AppSecret}[key]
	}
}

// result is one run of the command.
type result struct {
	code           int
	stdout, stderr string
}

func runMenu(t *testing.T, env func(string) string, args ...string) result {
	t.Helper()
	var stdout, stderr strings.Builder
	code := run(args, env, &stdout, &stderr)
	r := result{code, stdout.String(), stderr.String()}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Errorf("the output holds the secret: stdout %q stderr %q", r.stdout, r.stderr)
	}
	return r
}

// writeFile writes content to a file in a temporary directory.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "menu.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantNoCalls checks that nothing reached the emulator's cgi-bin API.
func wantNoCalls(t *testing.T, wx *wechattest.Server) {
	t.Helper()
	for _, path := range []string{pathToken, pathStable, pathMenu} {
		if got := wx.Calls(path); got != 0 {
			t.Errorf("Calls(%q): got %d, want 0", path, got)
		}
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("decoding %q: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

func TestCreatesTheMenu(t *testing.T) {
	for _, tt := range []struct {
		name  string
		flags []string
		path  string
	}{
		{"token", nil, pathToken},
		{"stable", []string{"-stable"}, pathStable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wx := emulator(t)
			r := runMenu(t, envOf(wx), append([]string{"-file", "testdata/menu.json", "-api", wx.URL}, tt.flags...)...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q; want 0", r.code, r.stderr)
			}
			if want := "menu of 3 top-level buttons created for " + wx.AppID; !strings.Contains(r.stdout, want) {
				t.Errorf("stdout: got %q, want it to say %q", r.stdout, want)
			}
			want, err := os.ReadFile("testdata/menu.json")
			if err != nil {
				t.Fatal(err)
			}
			if got := wx.Menu(); got == nil || !sameJSON(t, got, want) {
				t.Errorf("the emulator's menu: got %s, want %s", got, want)
			}
			if got := wx.Calls(tt.path); got != 1 {
				t.Errorf("Calls(%q): got %d, want 1", tt.path, got)
			}
			if got := wx.Calls(pathMenu); got != 1 {
				t.Errorf("Calls(%q): got %d, want 1", pathMenu, got)
			}
		})
	}
}

func TestInvalidMenuIsRefusedLocally(t *testing.T) {
	wx := emulator(t)
	menu := `{"button":[
		{"type":"click","name":"一二三四五六","key":"A"},
		{"type":"view","name":"b"},
		{"type":"click","name":"c","key":"C"},
		{"type":"click","name":"d","key":"D"}
	]}`
	r := runMenu(t, envOf(wx), "-file", writeFile(t, menu), "-api", wx.URL)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	for _, want := range []string{
		"has 4 top-level buttons; it needs 1 to 3",
		`button 1 "一二三四五六": name is 18 bytes`,
		`button 2 "b": type view needs url`,
		"3 broken rule(s); nothing was sent to WeChat",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr: want %q in %q", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "mp: menu:") {
		t.Errorf("stderr repeats the package prefix: %q", r.stderr)
	}
	wantNoCalls(t, wx)
	if wx.Menu() != nil {
		t.Errorf("Menu: got %s, want none", wx.Menu())
	}
}

func TestBadMenuFiles(t *testing.T) {
	wx := emulator(t)
	tests := []struct {
		name, content, want string
	}{
		{"not JSON", "button: 1", "not a WeChat menu"},
		{"misspelt field", `{"button":[{"name":"g","sub_buttons":[]}]}`, `unknown field "sub_buttons"`},
		{"two menus", `{"button":[]} {"button":[]}`, "more after"},
		{"a number for a name", `{"button":[{"type":"click","name":1,"key":"k"}]}`, "not a WeChat menu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runMenu(t, envOf(wx), "-file", writeFile(t, tt.content), "-api", wx.URL)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d stderr %q; want 1 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
	wantNoCalls(t, wx)
}

func TestMissingCredentials(t *testing.T) {
	wx := emulator(t)
	for _, env := range []map[string]string{
		{},
		{"WECHAT_APPID": wx.AppID},
		{"WECHAT_SECRET": wx.AppSecret},
	} {
		r := runMenu(t, func(k string) string { return env[k] }, "-file", "testdata/menu.json", "-api", wx.URL)
		if r.code != 2 || !strings.Contains(r.stderr, "set WECHAT_APPID and WECHAT_SECRET") {
			t.Errorf("env %v: exit %d stderr %q; want 2 and a message naming both variables", keys(env), r.code, r.stderr)
		}
	}
	wantNoCalls(t, wx)
}

func keys(m map[string]string) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	return k
}

func TestUsageErrors(t *testing.T) {
	env := func(string) string { return "x" }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no file", nil, "-file is required"},
		{"missing file", []string{"-file", filepath.Join(t.TempDir(), "none.json")}, "reading the menu"},
		{"extra argument", []string{"-file", "testdata/menu.json", "menu.json"}, "unexpected argument"},
		{"relative api", []string{"-file", "testdata/menu.json", "-api", "127.0.0.1:9000"}, "-api must be an absolute http(s) URL"},
		{"zero timeout", []string{"-file", "testdata/menu.json", "-timeout", "0s"}, "-timeout must be positive"},
		{"secret as a flag", []string{"-file", "testdata/menu.json", "-secret", secret}, "flag provided but not defined: -secret"},
		{"file and get", []string{"-file", "testdata/menu.json", "-get"}, "-file and -get exclude each other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runMenu(t, env, tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d stderr %q; want 2 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
	if r := runMenu(t, env, "-h"); r.code != 0 || !strings.Contains(r.stderr, "WECHAT_APPID") {
		t.Errorf("-h: exit %d stderr %q; want 0 and the usage", r.code, r.stderr)
	}
}

func TestWeChatRefusals(t *testing.T) {
	tests := []struct {
		name  string
		setup func(wx *wechattest.Server)
		env   func(wx *wechattest.Server) func(string) string
		want  []string
	}{
		{"wrong secret", nil, func(wx *wechattest.Server) func(string) string {
			return func(k string) string {
				return map[string]string{"WECHAT_APPID": wx.AppID, "WECHAT_SECRET": secret + "-old"}[k]
			}
		}, []string{"40125", "check WECHAT_SECRET"}},
		{"IP not whitelisted", func(wx *wechattest.Server) { wx.FailNext(pathToken, 40164) }, envOf,
			[]string{"40164", "IP whitelist"}},
		{"quota spent", func(wx *wechattest.Server) { wx.SetTokenQuota(0) }, envOf,
			[]string{"45009", "-stable"}},
		{"menu refused upstream", func(wx *wechattest.Server) { wx.FailNext(pathMenu, 40018) }, envOf,
			[]string{"40018"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wx := emulator(t)
			if tt.setup != nil {
				tt.setup(wx)
			}
			r := runMenu(t, tt.env(wx), "-file", "testdata/menu.json", "-api", wx.URL)
			if r.code != 1 {
				t.Errorf("exit %d stderr %q; want 1", r.code, r.stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr: want %q in %q", want, r.stderr)
				}
			}
			if strings.Contains(r.stderr, secret) || strings.Contains(r.stderr, "-old") {
				t.Errorf("stderr holds the secret: %q", r.stderr)
			}
		})
	}
}

// The menu file passes the local check and also WeChat's (the emulator's)
// own, so the two agree on it.
func TestExampleMenuIsValid(t *testing.T) {
	raw, err := os.ReadFile("testdata/menu.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeMenu(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// -get prints the live menu as the JSON -file takes: what was created
// comes back, and can be created again as it is.
func TestGetPrintsTheLiveMenu(t *testing.T) {
	wx := emulator(t)
	if r := runMenu(t, envOf(wx), "-file", "testdata/menu.json", "-api", wx.URL); r.code != 0 {
		t.Fatalf("creating: exit %d stderr %q", r.code, r.stderr)
	}
	r := runMenu(t, envOf(wx), "-get", "-api", wx.URL)
	if r.code != 0 {
		t.Fatalf("-get: exit %d stderr %q; want 0", r.code, r.stderr)
	}
	want, err := os.ReadFile("testdata/menu.json")
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, []byte(r.stdout), want) {
		t.Errorf("-get: got %s, want the menu created, %s", r.stdout, want)
	}
	if got := wx.Calls("/cgi-bin/menu/get"); got != 1 {
		t.Errorf("Calls(menu/get): got %d, want 1", got)
	}
	again := runMenu(t, envOf(wx), "-file", writeFile(t, r.stdout), "-api", wx.URL)
	if again.code != 0 {
		t.Errorf("creating the printed menu: exit %d stderr %q; want 0", again.code, again.stderr)
	}
}

func TestGetWithoutAMenu(t *testing.T) {
	wx := emulator(t)
	r := runMenu(t, envOf(wx), "-get", "-api", wx.URL)
	if r.code != 1 || r.stdout != "" {
		t.Errorf("exit %d stdout %q; want 1 and nothing printed", r.code, r.stdout)
	}
	for _, want := range []string{"reading the menu", "46003", "create one with -file"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr: want %q in %q", want, r.stderr)
		}
	}
}
