package component_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/component"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/wechattest"
)

func unauthorizedXML(componentAppID, appID string, at time.Time) string {
	return fmt.Sprintf("<xml><AppId>%s</AppId><CreateTime>%d</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>%s</AuthorizerAppid></xml>",
		componentAppID, at.Unix(), appID)
}

// A replay of an "unauthorized" event, within the minutes an event is
// accepted, after the account authorized the platform again, is
// acknowledged and acted on no more: the new refresh token stays, the
// hook is not called again. Two instances on one Redis share the memory.
func TestReplayedEventIsNotActedOnAgain(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			wx := wechattest.NewServer()
			defer wx.Close()
			calls := 0
			edit := func(o *component.Options) {
				o.OnAuthorization = func(context.Context, component.Authorization) error { calls++; return nil }
			}
			if shared {
				srv := redistest.Start(t)
				edit = func(o *component.Options) {
					store := redisstore.New(srv.Pool())
					o.Tickets = store.ComponentTickets(o.AppID)
					o.Authorizers = store.Authorizers(o.AppID)
					o.AuthorizerCredentials = store.CredentialCache
					o.OnAuthorization = func(context.Context, component.Authorization) error { calls++; return nil }
				}
			}
			p1 := readyPlatform(t, wx, edit)
			p2 := p1
			if shared {
				p2 = newPlatform(t, wx, edit)
			}
			revoke := unauthorizedXML(wx.ComponentAppID, authorizerA1, time.Now())
			if st := pushRaw(t, p1, p1.Crypto(), revoke); st != http.StatusOK || calls != 1 {
				t.Fatalf("unauthorized: HTTP %d, hook called %d times", st, calls)
			}
			// The account authorizes again.
			authorize(t, wx, p1, authorizerA1)
			// The captured unauthorized event, replayed to another instance.
			if st := pushRaw(t, p2, p2.Crypto(), revoke); st != http.StatusOK {
				t.Fatalf("replay: HTTP %d, want 200 (acknowledged)", st)
			}
			if calls != 1 {
				t.Errorf("the hook was called %d times, want 1: the replay reached it", calls)
			}
			if _, err := p2.AuthorizerTokens(authorizerA1).Token(context.Background()); err != nil {
				t.Errorf("after the replay, the account's token: %v (its refresh token was deleted)", err)
			}
			if !strings.Contains(p2.log.String(), "handled already") {
				t.Errorf("the log does not say the replay was handled already:\n%s", p2.log.String())
			}
		})
	}
}
