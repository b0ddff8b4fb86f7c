// Command wechatmenu sets an Official Account's custom menu from a JSON
// file, or prints the menu that is live:
//
//	WECHAT_APPID=wx… WECHAT_SECRET=… go run ./cmd/wechatmenu -file menu.json
//	WECHAT_APPID=wx… WECHAT_SECRET=… go run ./cmd/wechatmenu -get > menu.json
//
// The file holds WeChat's own menu JSON, {"button":[…]}, the shape of
// mp.Menu; testdata/menu.json is an example. The menu is checked
// first, offline, against WeChat's documented limits with Menu.Validate: a
// menu that breaks any rule gets every broken rule printed and nothing is
// sent. A valid menu is created with POST /cgi-bin/menu/create, with a
// global access_token from /cgi-bin/token (or /cgi-bin/stable_token with
// -stable).
//
// With -get it prints the live menu, read with GET /cgi-bin/menu/get, as
// the same JSON a -file takes, so it can be saved, edited and created
// again. menu/get answers the menu set through the API (this command, or
// any other client of menu/create), in the shape menu/create takes;
// /cgi-bin/get_current_selfmenu_info would also show a menu made in the
// web editor, but in a shape of its own that -file could not read back.
//
// The credentials come from the environment, WECHAT_APPID and
// WECHAT_SECRET, never from flags (which other users of the machine can
// read in the process list); the secret is never printed.
//
// Flags:
//
//	-file     the menu JSON file to create
//	-get      print the live menu instead; give -file or -get
//	-stable   take the access token from /cgi-bin/stable_token, which does
//	          not invalidate the token other servers of the account use;
//	          prefer it when the account has servers running
//	-api      the API base URL, default https://api.weixin.qq.com; for the
//	          emulator, the URL wechatemu prints, such as http://127.0.0.1:9000
//	-timeout  how long the whole run may take, default 30s
//
// Exit status: 0 when the menu was created or printed, 1 when the menu is
// invalid, WeChat refused it or the account has no menu, 2 for a usage error (flags, credentials, the file
// cannot be read).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/wechatauth/wechatauth/mp"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailed  = 1 // an invalid menu, or WeChat said no
	exitUsage   = 2
	maxMenuFile = 1 << 20
)

// hints say what to do about the errcodes a menu upload commonly meets.
var hints = map[int]string{
	mp.CodeInvalidAppID:     "check WECHAT_APPID: it must be the Official Account's AppID",
	mp.CodeInvalidAppSecret: "check WECHAT_SECRET: it must be the account's current AppSecret",
	mp.CodeIPNotAllowed:     "add this machine's public IP to the account's IP whitelist (设置与开发 → 基本配置)",
	mp.CodeDailyQuota:       "the account's daily quota is spent; try again tomorrow, or use -stable",
	mp.CodeMinuteQuota:      "too many calls; wait a minute",
	48001:                   "the account lacks the permission for the custom-menu API",
	mp.CodeNoMenu:           "the account has no menu set through the API; create one with -file menu.json",
}

// run is the command with its arguments, its environment and its output,
// so tests call it in-process. It returns the exit status.
func run(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wechatmenu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: WECHAT_APPID=… WECHAT_SECRET=… wechatmenu -file menu.json [-stable] [-api URL] [-timeout 30s]")
		fmt.Fprintln(stderr, "       WECHAT_APPID=… WECHAT_SECRET=… wechatmenu -get [-stable] [-api URL] [-timeout 30s]")
		fs.PrintDefaults()
	}
	file := fs.String("file", "", "the menu `JSON` file to create, WeChat's {\"button\":[…]}")
	get := fs.Bool("get", false, "print the live menu (/cgi-bin/menu/get) as the JSON -file takes, instead of creating one")
	stable := fs.Bool("stable", false, "take the access token from /cgi-bin/stable_token, which leaves other servers' tokens valid")
	api := fs.String("api", mp.DefaultAPIURL, "the API base `URL`; the emulator's for a test run")
	timeout := fs.Duration("timeout", 30*time.Second, "how long the whole run may take")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "wechatmenu: "+format+"\n", a...)
		return exitUsage
	}
	switch {
	case fs.NArg() > 0:
		return usage("unexpected argument %q; the menu file goes after -file", fs.Arg(0))
	case *file != "" && *get:
		return usage("-file and -get exclude each other: -file creates a menu, -get prints the live one")
	case *file == "" && !*get:
		return usage("-file is required: the menu JSON to create (or -get, to print the live menu)")
	case *timeout <= 0:
		return usage("-timeout must be positive, got %v", *timeout)
	}
	if u, err := url.Parse(*api); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return usage("-api must be an absolute http(s) URL such as %s, got %q", mp.DefaultAPIURL, *api)
	}

	var menu mp.Menu
	if !*get {
		raw, err := os.ReadFile(*file)
		if err != nil {
			return usage("reading the menu: %v", err)
		}
		if menu, err = decodeMenu(raw); err != nil {
			fmt.Fprintf(stderr, "wechatmenu: %s: %v\n", *file, err)
			return exitFailed
		}
		if err := menu.Validate(); err != nil {
			broken := brokenRules(err)
			for _, rule := range broken {
				fmt.Fprintf(stderr, "wechatmenu: %s: %s\n", *file, rule)
			}
			fmt.Fprintf(stderr, "wechatmenu: %s: %d broken rule(s); nothing was sent to WeChat\n", *file, len(broken))
			return exitFailed
		}
	}

	appID, secret := env("WECHAT_APPID"), env("WECHAT_SECRET")
	if appID == "" || secret == "" {
		return usage("set WECHAT_APPID and WECHAT_SECRET in the environment to the Official Account's AppID and AppSecret (they are not taken from flags)")
	}
	client := &mp.Client{
		AppID:      appID,
		AppSecret:  secret,
		HTTPClient: &http.Client{Timeout: *timeout},
		Endpoints:  mp.Endpoints{API: *api},
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	ts := mp.NewAccessTokenSource(client, mp.CredentialOptions{Stable: *stable})
	refused := func(doing string, err error) int {
		// The client keeps secrets out of its errors; redact anyway.
		fmt.Fprintf(stderr, "wechatmenu: %s: %s\n", doing, redact(err.Error(), secret))
		var apiErr *mp.Error
		if errors.As(err, &apiErr) && hints[apiErr.Code] != "" {
			fmt.Fprintf(stderr, "wechatmenu: %s\n", hints[apiErr.Code])
		}
		return exitFailed
	}

	if *get {
		live, err := client.Menu(ctx, ts)
		if err != nil {
			return refused("reading the menu", err)
		}
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false) // a url's & stays as it is
		enc.SetIndent("", "  ")
		if err := enc.Encode(live); err != nil {
			fmt.Fprintf(stderr, "wechatmenu: writing the menu: %v\n", err)
			return exitFailed
		}
		return exitOK
	}
	if err := client.CreateMenu(ctx, ts, menu); err != nil {
		return refused("creating the menu", err)
	}
	fmt.Fprintf(stdout, "wechatmenu: menu of %s created for %s\n", plural(len(menu.Buttons), "top-level button"), appID)
	return exitOK
}

// decodeMenu reads a menu file strictly: a field the menu does not know,
// such as a misspelt "sub_buttons", would otherwise vanish silently.
func decodeMenu(raw []byte) (mp.Menu, error) {
	var m mp.Menu
	if len(raw) > maxMenuFile {
		return m, fmt.Errorf("the file has %d bytes; a menu has far fewer", len(raw))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("not a WeChat menu ({\"button\":[…]}): %w", err)
	}
	if dec.More() {
		return m, errors.New("not a WeChat menu: more after the menu's closing brace")
	}
	return m, nil
}

// brokenRules lists the rules Validate reports, one per entry, without the
// package's prefix.
func brokenRules(err error) []string {
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	rules := make([]string, 0, len(errs))
	for _, e := range errs {
		rules = append(rules, strings.TrimPrefix(e.Error(), "mp: menu: "))
	}
	return rules
}

// redact removes secret, as is and URL-encoded, from s.
func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	s = strings.ReplaceAll(s, secret, "[secret]")
	return strings.ReplaceAll(s, url.QueryEscape(secret), "[secret]")
}

// plural is n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
