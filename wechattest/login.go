package wechattest

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
)

// LogIn logs the user openID into r for app, so that a handler of the
// application behind wechatauth's RequireWeChatUser can be tested without
// WeChat or a browser:
//
//	req := httptest.NewRequest("GET", "/account/", nil)
//	if err := wx.LogIn(app, req, "oAlice"); err != nil { ... }
//	app.ServeHTTP(rec, req) // the handler sees oAlice
//
// app is the application's whole handler (sessions included), configured
// with this emulator's Endpoints. LogIn runs the application's own login
// for r's page in process: the redirect to WeChat, a code of this
// emulator's for openID (added as a user if the emulator does not know
// it), the callback; then it adds the cookies the application set to r.
// The authorize page itself is skipped, whatever the Mode.
//
// For an application that logs in with WeCom (its link's appid is
// [Server.CorpID], or it sends desktop browsers to the Web login),
// openID is a member's userid or a non-member's openid, empty for the
// WeCom visitor; an id the emulator does not know is added as a member.
// The code is the one the link asks for: snsapi_base or
// snsapi_privateinfo in the client, a Web-login code otherwise.
//
// For an application that logs in for an authorizer of the third-party
// platform (its link carries component_appid), openID is the user's base
// OpenID; the code is the authorizer's ([Server.IssueAuthorizerCode]),
// the callback gets the authorizer's appid too, and the application
// knows the user by [Server.AuthorizerOpenID].
func (s *Server) LogIn(app http.Handler, r *http.Request, openID string) error {
	jar := &oneSiteJar{}
	client := &http.Client{Jar: jar, Transport: inProcess{app}}
	page := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	if r.Host == "" {
		page.Host = "example.com"
	}
	end, err := s.logIn(client, page.String(), openID, r.Header.Get("User-Agent"))
	if err != nil {
		return err
	}
	for _, c := range jar.Cookies(end) {
		r.AddCookie(c)
	}
	return nil
}

// LogInJar logs the user openID into jar for the page at pageURL of a
// running application (an httptest.Server, say), as LogIn does in process:
// requests made with jar afterwards are the user's.
func (s *Server) LogInJar(jar http.CookieJar, pageURL, openID string) error {
	_, err := s.logIn(&http.Client{Jar: jar}, pageURL, openID, "")
	return err
}

// logIn walks the login of pageURL for openID with client and returns the
// URL of the callback, whose cookies are the login's.
func (s *Server) logIn(client *http.Client, pageURL, openID, userAgent string) (*url.URL, error) {
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	get := func(u string) (*http.Response, error) {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "text/html")
		if userAgent != "" {
			req.Header.Set("User-Agent", userAgent)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}
	next := pageURL
	var callback *url.URL
	// A progressive login makes two round trips; a few more are a loop.
	for range 4 {
		resp, err := get(next)
		if err != nil {
			return nil, fmt.Errorf("wechattest: LogIn: GET %s: %w", next, err)
		}
		loc, _ := resp.Location()
		switch {
		case resp.StatusCode == http.StatusOK && callback == nil: // logged in already
			return resp.Request.URL, nil
		case resp.StatusCode != http.StatusFound || loc == nil:
			return nil, fmt.Errorf("wechattest: LogIn: GET %s answered HTTP %d, not a redirect to the emulator's authorize page: is the application on this emulator's Endpoints?", next, resp.StatusCode)
		case s.isWeComLink(loc):
			cb, code, err := s.logInWeCom(loc, openID)
			if err != nil {
				return nil, err
			}
			callback = cb
			cbq := *cb
			cbq.RawQuery = url.Values{"code": {code}, "state": {loc.Query().Get("state")}}.Encode()
			next = cbq.String()
		case strings.HasPrefix(loc.String(), s.URL+pathAuthorize+"?"), strings.HasPrefix(loc.String(), s.URL+pathQRConnect+"?"):
			s.addLogInUser(openID)
			q := loc.Query()
			scope := q.Get("scope")
			if scope != scopeBase && scope != scopeUserInfo && scope != scopeLogin {
				return nil, fmt.Errorf("wechattest: LogIn: the authorize link asks for scope %q", scope)
			}
			cb, err := url.Parse(q.Get("redirect_uri"))
			if err != nil || cb.Host == "" {
				return nil, fmt.Errorf("wechattest: LogIn: the authorize link's redirect_uri %q is not absolute", q.Get("redirect_uri"))
			}
			callback = cb
			back := url.Values{"state": {q.Get("state")}}
			if comp := q.Get("component_appid"); comp != "" && strings.HasPrefix(loc.String(), s.URL+pathAuthorize+"?") {
				// Component mode: a code of the authorizer, and its appid.
				code, err := s.logInAuthorizerCode(comp, q.Get("appid"), openID, scope)
				if err != nil {
					return nil, err
				}
				back.Set("code", code)
				back.Set("appid", q.Get("appid"))
			} else {
				back.Set("code", s.IssueCode(openID, scope))
			}
			cbq := *cb
			cbq.RawQuery = back.Encode()
			next = cbq.String()
		case callback != nil:
			// Back from the callback, on the way to the page: logged in.
			return callback, nil
		default:
			return nil, fmt.Errorf("wechattest: LogIn: GET %s redirected to %s, not to the emulator", next, loc)
		}
	}
	return nil, errors.New("wechattest: LogIn: the application keeps sending the browser to WeChat")
}

// addLogInUser adds the user openID of LogIn if the emulator does not
// know it. It panics if openID is not a valid OpenID.
func (s *Server) addLogInUser(openID string) {
	if openID == "" {
		return
	}
	mustValidUser("LogIn", User{OpenID: openID})
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[openID]; !ok {
		s.addUserLocked(User{OpenID: openID})
	}
}

// oneSiteJar keeps cookies by name alone: in process, the page and the
// callback are one application, whatever hosts their URLs name.
type oneSiteJar struct{ cookies []*http.Cookie }

func (j *oneSiteJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	for _, c := range cs {
		j.cookies = slices.DeleteFunc(j.cookies, func(old *http.Cookie) bool { return old.Name == c.Name })
		if c.MaxAge >= 0 && c.Value != "" {
			j.cookies = append(j.cookies, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
}

func (j *oneSiteJar) Cookies(*url.URL) []*http.Cookie { return j.cookies }

// inProcess is a transport that serves every request with a handler.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	r2 := r.Clone(r.Context())
	r2.RequestURI = r.URL.RequestURI()
	r2.RemoteAddr = "192.0.2.1:1234"
	t.h.ServeHTTP(rec, r2)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}
