//lint:file-ignore SA1019 this file checks that the names of v0.1.0 still compile and work

package redisstore_test

import (
	"context"
	"testing"

	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/wechattest"
)

// TestDeprecatedCredentialNames: code written for v0.1.0, with
// mp.AccessTokenSourceOptions, mp.TicketSourceOptions,
// Store.AccessTokenCache and Store.TicketCache, compiles and works, and
// shares its credentials with code written for CredentialOptions and
// CredentialCache: the keys are the same.
func TestDeprecatedCredentialNames(t *testing.T) {
	srv := redistest.Start(t)
	wx := wechattest.NewServer()
	defer wx.Close()
	ctx := context.Background()
	client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}

	old := redisstore.New(srv.Pool())
	var tokenOpts mp.AccessTokenSourceOptions = mp.AccessTokenSourceOptions{Cache: old.AccessTokenCache(wx.AppID)}
	var ticketOpts mp.TicketSourceOptions = mp.TicketSourceOptions{Cache: old.TicketCache(wx.AppID)}
	oldTokens := mp.NewAccessTokenSource(client, tokenOpts)
	oldTickets := mp.NewTicketSource(client, oldTokens, ticketOpts)
	token, err := oldTokens.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ticket, err := oldTickets.Ticket(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []mp.CredentialCache{old.AccessTokenCache(wx.AppID), old.TicketCache(wx.AppID)} {
		if _, ok := c.(mp.BackoffCache); !ok {
			t.Errorf("%T is not an mp.BackoffCache", c)
		}
		if _, ok := c.(mp.RenewLimiter); !ok {
			t.Errorf("%T is not an mp.RenewLimiter", c)
		}
	}

	// Another instance, written for the new names, finds both.
	store := redisstore.New(ownPool(t, srv.Addr()))
	tokens := mp.NewAccessTokenSource(client, mp.CredentialOptions{Cache: store.CredentialCache(mp.AccessTokenCredential, wx.AppID)})
	tickets := mp.NewTicketSource(client, tokens, mp.CredentialOptions{Cache: store.CredentialCache(mp.JSAPITicketCredential, wx.AppID)})
	if got, err := tokens.Token(ctx); got != token || err != nil {
		t.Errorf("access_token through CredentialCache: got %q, %v; want %q", got, err, token)
	}
	if got, err := tickets.Ticket(ctx); got != ticket || err != nil {
		t.Errorf("jsapi_ticket through CredentialCache: got %q, %v; want %q", got, err, ticket)
	}
	if got := wx.Calls("/cgi-bin/token"); got != 1 {
		t.Errorf("access_token fetches: got %d, want 1", got)
	}
	if got := wx.Calls(pathTicket); got != 1 {
		t.Errorf("getticket calls: got %d, want 1", got)
	}
}
