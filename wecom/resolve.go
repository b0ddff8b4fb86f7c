package wecom

import (
	"context"
	"fmt"
	"net/http"

	"github.com/wechatauth/wechatauth/internal/engine"
)

// resolve is whom g, a code redeemed through ap, logs in: a non-member is
// refused unless Options.AllowNonMembers; a member of the corp gets the
// name and departments (Options.Profile) and, with the user_ticket of a
// ScopePrivateInfo login, the sensitive fields, each fetched now, in the
// callback, within the ticket's 1800 s. A fetch that fails logs the
// member in without what it would have given, and the log says so: the
// code is spent, and the login is worth more than the fields.
func (a *Auth) resolve(ctx context.Context, ap *corpApp, g grant) (Member, error) {
	m := g.User
	if !m.IsMember() {
		if !a.opts.AllowNonMembers {
			return Member{}, &engine.Refusal{
				Err:    fmt.Errorf("wecom: %s is not a member of the corp: %w", m.ID(), ErrNotMember),
				Status: http.StatusForbidden,
				Title:  "您不是本企业的成员 · You are not a member of this company",
				Advice: "此页面仅供本企业成员使用。如果您是成员，请用企业微信登录；如有疑问请联系企业管理员。 · This page is for members of the company only. If you are one, log in with WeCom (企业微信); otherwise, ask the company's administrator.",
			}
		}
		return m, nil
	}
	log := a.opts.Logger
	if a.opts.Profile && !m.Linked() {
		if p, err := ap.client.User(ctx, ap.tokens, m.UserID); err != nil {
			log.WarnContext(ctx, "wecom: fetching the member's name and department (user/get) failed; logging in without them", "member", m.ID(), "err", ap.Misconfigured(err))
		} else {
			m.Name, m.Department = p.Name, p.Department
		}
	}
	if ticket := g.Access; ticket != "" && !m.Linked() {
		if d, err := ap.client.UserDetail(ctx, ap.tokens, ticket); err != nil {
			log.WarnContext(ctx, "wecom: fetching the member's sensitive fields (auth/getuserdetail) failed; logging in without them", "member", m.ID(), "err", ap.Misconfigured(err))
		} else {
			m.Private = Private{Gender: d.Gender, Avatar: d.Avatar, QRCode: d.QRCode, Mobile: d.Mobile, Email: d.Email, BizMail: d.BizMail, Address: d.Address}
		}
	}
	return m, nil
}
