package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth/component"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
)

// TestComponentTickets: the verify ticket is shared under the prefix, an
// older push never replaces a newer ticket, and a push of the same time
// or later does.
func TestComponentTickets(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	store := redisstore.New(srv.Pool())
	store.Prefix = "app1:"
	a, b := store.ComponentTickets("wx00000000000000c1"), redisstore.New(srv.Pool()).ComponentTickets("wx00000000000000c1")
	if _, err := a.LoadTicket(ctx); !errors.Is(err, mp.ErrNotFound) {
		t.Fatalf("LoadTicket of none: %v, want mp.ErrNotFound", err)
	}
	t0 := time.UnixMilli(1_700_000_000_000)
	save := func(value string, at time.Time) bool {
		t.Helper()
		ok, err := a.SaveTicket(ctx, component.Ticket{Value: value, Time: at})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !save("ticket@@@1", t0) {
		t.Fatal("first save refused")
	}
	if save("ticket@@@0", t0.Add(-time.Minute)) {
		t.Error("an older ticket replaced a newer one")
	}
	if !save("ticket@@@1b", t0) {
		t.Error("a push of the same time was refused")
	}
	if !save("ticket@@@2", t0.Add(10*time.Minute)) {
		t.Error("a newer ticket was refused")
	}
	got, err := a.LoadTicket(ctx)
	if err != nil || got.Value != "ticket@@@2" || !got.Time.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("LoadTicket = %+v, %v", got, err)
	}
	if _, err := b.LoadTicket(ctx); !errors.Is(err, mp.ErrNotFound) {
		t.Errorf("a store of another prefix reads the ticket: %v", err)
	}
	conn := srv.Pool().Get()
	defer conn.Close()
	ttl, err := redis.Int64(conn.Do("PTTL", "app1:component_verify_ticket:wx00000000000000c1"))
	if err != nil || ttl <= int64(12*time.Hour/time.Millisecond) {
		t.Errorf("PTTL of the ticket key = %d, %v; want more than 12 hours", ttl, err)
	}
}
