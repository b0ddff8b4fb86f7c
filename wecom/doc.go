// Package wecom puts WeCom (企业微信) login in front of net/http
// handlers, for a corp's self-built app (自建应用: CorpID, AgentID,
// Secret): inside the WeCom client through WeCom's authorize page, in
// desktop browsers through WeCom's Web login, both back through one
// callback. It is the sibling of package wechatauth, the Official
// Account's login, with the same shape (Options → New → RequireMember,
// CallbackHandler, MemberFrom) over the same login flow, and so the same
// protections: the login under way in a cookie of its own, the state and
// its MAC bound to the browser, single use, same-origin returns, one code
// exchange for duplicate deliveries across instances, session renewal,
// 401 JSON for API requests, no redirect loop, the debug login and setup
// diagnostics.
//
// Who is there is a Member, exact for WeCom: a member's UserID (with the
// CorpID of a linked corp kept apart), or a non-member's OpenID (and a
// customer's ExternalUserID), never one in the other's place.
// Non-members are refused with a page that says so unless
// Options.AllowNonMembers lets them in. Options.Profile adds the name and
// departments (user/get); ScopePrivateInfo the sensitive fields
// (auth/getuserdetail), fetched in the callback.
//
// Browsers are told apart by their User-Agent: WeCom's ("wxwork/", looked
// for first, since WeCom's also says "MicroMessenger") go to the
// authorize page, personal WeChat's to Options.OutsideWeCom (a page asking
// to open the link in WeCom), every other browser to the Web login.
//
// The app's corp access_token is fetched with the Secret, shared through
// Options.TokenCache (package redisstore for many instances) once per
// expiry, and never reaches a session, a Member, a cookie, a URL, a log
// line or an error. WeCom's refusals that blame the setup (60020 with the
// IP WeCom saw, 50001, 40001, 40013, 40091, 48002) end on a page that
// says the site is misconfigured, and in a log line that names the fix.
//
// An Official Account's Auth and a WeCom Auth may share one site and one
// scs.SessionManager: each keeps its user under a session key and login
// cookies of its own.
package wecom
