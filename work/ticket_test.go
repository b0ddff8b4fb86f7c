package work_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/internal/testclock"
	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/work"
)

// The paths of the two tickets.
const (
	pathCorpTicket  = "/cgi-bin/get_jsapi_ticket"
	pathAgentTicket = "/cgi-bin/ticket/get"
)

// tickets makes a fake serve both tickets, to any access token it issued:
// the corp's "CORPTICKET-n" and the app's "AGENTTICKET-n", n counting
// each kind's fetches, each valid for 7200 seconds.
type tickets struct {
	f *fake

	mu    sync.Mutex
	n     map[string]int    // tickets issued, by path
	stale map[string]int    // access tokens refused, with the errcode
	body  map[string]string // a reply to give in place of a ticket, by path
	gate  chan struct{}     // when not nil, replies wait until it is closed
	enter func()            // closes the channel hold returned as entered
}

func serveTickets(f *fake) *tickets {
	tk := &tickets{f: f, n: map[string]int{}, stale: map[string]int{}, body: map[string]string{}}
	f.handle(pathCorpTicket, tk.handler(pathCorpTicket, "CORPTICKET"))
	f.handle(pathAgentTicket, tk.handler(pathAgentTicket, "AGENTTICKET"))
	return tk
}

func (tk *tickets) handler(path, prefix string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tk.mu.Lock()
		gate, enter := tk.gate, tk.enter
		tk.mu.Unlock()
		if gate != nil {
			enter()
			<-gate
		}
		token := r.URL.Query().Get("access_token")
		tk.mu.Lock()
		defer tk.mu.Unlock()
		switch {
		case !strings.HasPrefix(token, "ACCESSTOKEN-"):
			fmt.Fprintf(w, `{"errcode":40014,"errmsg":"invalid access_token %s"}`, token)
		case tk.stale[token] != 0:
			fmt.Fprintf(w, `{"errcode":%d,"errmsg":"access_token %s expired"}`, tk.stale[token], token)
		case tk.body[path] != "":
			fmt.Fprint(w, tk.body[path])
		default:
			tk.n[path]++
			fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","ticket":"%s-%d","expires_in":7200}`, prefix, tk.n[path])
		}
	}
}

// hold makes ticket replies wait until release is called; entered is
// closed when the first call arrives.
func (tk *tickets) hold() (<-chan struct{}, func()) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	in, gate := make(chan struct{}), make(chan struct{})
	var entered, released sync.Once
	tk.gate, tk.enter = gate, func() { entered.Do(func() { close(in) }) }
	return in, func() { released.Do(func() { close(gate) }) }
}

// refuseStale makes the fake refuse token as stale with errcode.
func (tk *tickets) refuseStale(token string, errcode int) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	tk.stale[token] = errcode
}

// replyInstead makes path answer body instead of a ticket, until told "".
func (tk *tickets) replyInstead(path, body string) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	tk.body[path] = body
}

// instance is one instance of the app: its token source and the two
// ticket sources.
type instance struct {
	tokens      mp.AccessTokenSource
	corp, agent mp.TicketSource
}

// newInstance builds an instance of c's app whose caches come from
// caches (nil: each source its own memory cache).
func newInstance(c *work.Client, caches func(kind mp.CredentialKind, account string) mp.CredentialCache) *instance {
	var token, corp, agent mp.CredentialCache
	if caches != nil {
		token = caches(work.AccessTokenCredential, c.Account())
		corp = caches(work.JSAPITicketCredential, c.CorpID)
		agent = caches(work.AgentTicketCredential, c.Account())
	}
	in := &instance{tokens: work.NewAccessTokenSource(c, mp.CredentialOptions{Cache: token})}
	in.corp = work.NewJSAPITicketSource(c, in.tokens, mp.CredentialOptions{Cache: corp})
	in.agent = work.NewAgentTicketSource(c, in.tokens, mp.CredentialOptions{Cache: agent})
	return in
}

// configs asks m configs at once, spread over instances: each config
// wants both tickets, as a page that calls wx.config and then
// wx.agentConfig does. It fails the test when a config gets the wrong
// kind of ticket, and returns the tickets seen.
func configs(t *testing.T, m int, instances []*instance, started func()) (corp, agent map[string]int) {
	t.Helper()
	corp, agent = map[string]int{}, map[string]int{}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for i := range m {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if started != nil {
				started()
			}
			in := instances[i%len(instances)]
			ctx := context.Background()
			c, err1 := in.corp.Ticket(ctx)
			a, err2 := in.agent.Ticket(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err := errors.Join(err1, err2); err != nil {
				errs = append(errs, err)
				return
			}
			corp[c]++
			agent[a]++
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for v := range corp {
		if !strings.HasPrefix(v, "CORPTICKET-") {
			t.Errorf("the corp's ticket source gave %q", v)
		}
	}
	for v := range agent {
		if !strings.HasPrefix(v, "AGENTTICKET-") {
			t.Errorf("the app's ticket source gave %q", v)
		}
	}
	return corp, agent
}

// nop is a clock that nothing else follows.
type nop struct{}

func (nop) Advance(time.Duration) {}

func TestTicketRequests(t *testing.T) {
	f := newFake(t)
	serveTickets(f)
	c := f.client()
	clock := testclock.New(nop{}, func(now func() time.Time) { work.SetClock(c, now) })
	ctx := context.Background()
	for _, tt := range []struct {
		name, path, query, want string
		fetch                   func(context.Context, string) (mp.Credential, error)
	}{
		{"corp", pathCorpTicket, "access_token=ACCESSTOKEN-7", "CORPTICKET-1", c.JSAPITicket},
		{"agent", pathAgentTicket, "access_token=ACCESSTOKEN-7&type=agent_config", "AGENTTICKET-1", c.AgentTicket},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.fetch(ctx, "ACCESSTOKEN-7")
			if err != nil || got.Value != tt.want {
				t.Fatalf("got %+v, %v; want %s", got, err, tt.want)
			}
			if want := clock.Now().Add(7200 * time.Second); got.Expiry.Sub(want).Abs() > time.Second {
				t.Errorf("expiry %v, want 7200 s from the client's clock, %v", got.Expiry, want)
			}
			calls := f.calls(tt.path)
			if len(calls) != 1 || calls[0].method != http.MethodGet || calls[0].rawQuery != tt.query {
				t.Errorf("calls of %s: got %+v, want one GET with query %q", tt.path, calls, tt.query)
			}

			// WeCom's refusal, which repeats the token: an *Error without it.
			_, err = tt.fetch(ctx, "NOT-A-TOKEN-0123456789")
			var e *work.Error
			if !errors.As(err, &e) || e.Code != work.CodeInvalidAccessToken || !e.StaleAccessToken() || e.Endpoint != tt.path {
				t.Errorf("with a bad token: got %v, want *work.Error 40014 of %s", err, tt.path)
			}
			noSecrets(t, err, "NOT-A-TOKEN-0123456789")
		})
	}
	for _, body := range []string{
		`{"errcode":0,"errmsg":"ok","ticket":"","expires_in":7200}`,
		`{"errcode":0,"errmsg":"ok","ticket":"T","expires_in":0}`,
		`{"errcode":0,"errmsg":"ok"}`,
		`not json`,
	} {
		f.reply(pathAgentTicket, body)
		if _, err := c.AgentTicket(ctx, "ACCESSTOKEN-7"); !errors.Is(err, mp.ErrUpstream) {
			t.Errorf("reply %s: got %v, want an error wrapping mp.ErrUpstream", body, err)
		} else {
			noSecrets(t, err)
		}
	}
}

// TestTicketSourcesOneFetchForConcurrentConfigs asks 100 configs of one
// instance at once, while the first fetch of each ticket is held: one
// fetch of each ticket, and of the token.
func TestTicketSourcesOneFetchForConcurrentConfigs(t *testing.T) {
	f := newFake(t)
	tk := serveTickets(f)
	in := newInstance(f.client(), nil)
	entered, release := tk.hold()
	const m = 100
	var started sync.WaitGroup
	started.Add(m)
	go func() { started.Wait(); <-entered; release() }()
	corp, agent := configs(t, m, []*instance{in}, started.Done)
	if corp["CORPTICKET-1"] != m || agent["AGENTTICKET-1"] != m {
		t.Errorf("tickets given: corp %v, agent %v; want CORPTICKET-1 and AGENTTICKET-1 to every config", corp, agent)
	}
	for path, want := range map[string]int{"/cgi-bin/gettoken": 1, pathCorpTicket: 1, pathAgentTicket: 1} {
		if got := len(f.calls(path)); got != want {
			t.Errorf("%s calls: got %d, want %d", path, got, want)
		}
	}
}

// TestTicketSourcesSharedThroughRedis runs five instances of one app on
// one Redis: one fetch of each ticket between them, each under its own
// key, while another app of the corp shares the corp's ticket but fetches
// a ticket of its own.
func TestTicketSourcesSharedThroughRedis(t *testing.T) {
	srv := redistest.Start(t)
	store := redisstore.New(srv.Pool())
	f := newFake(t)
	tk := serveTickets(f)
	instances := make([]*instance, 5)
	for i := range instances {
		instances[i] = newInstance(f.client(), store.CredentialCache)
	}
	entered, release := tk.hold()
	const m = 100
	var started sync.WaitGroup
	started.Add(m)
	go func() { started.Wait(); <-entered; release() }()
	corp, agent := configs(t, m, instances, started.Done)
	if corp["CORPTICKET-1"] != m || agent["AGENTTICKET-1"] != m {
		t.Errorf("tickets given: corp %v, agent %v; want CORPTICKET-1 and AGENTTICKET-1 to every config", corp, agent)
	}
	for path, want := range map[string]int{"/cgi-bin/gettoken": 1, pathCorpTicket: 1, pathAgentTicket: 1} {
		if got := len(f.calls(path)); got != want {
			t.Errorf("%s calls: got %d, want %d", path, got, want)
		}
	}
	conn := srv.Pool().Get()
	defer conn.Close()
	for key, want := range map[string]string{
		"wechatauth:wecom_jsapi_ticket:" + corpID:                 " CORPTICKET-1",
		"wechatauth:wecom_agent_ticket:" + corpID + "/" + agentID: " AGENTTICKET-1",
	} {
		if v, err := redis.String(conn.Do("GET", key)); err != nil || !strings.HasSuffix(v, want) {
			t.Errorf("Redis %s: got %q, %v; want the ticket%s", key, v, err, want)
		}
	}

	other := f.client()
	other.AgentID, other.Secret = "1000003", "S3cretOfTheOtherApp-0123456789"
	o := newInstance(other, store.CredentialCache)
	ctx := context.Background()
	if got, err := o.corp.Ticket(ctx); err != nil || got != "CORPTICKET-1" {
		t.Errorf("another app's corp ticket: got %q, %v; want the corp's CORPTICKET-1", got, err)
	}
	if got, err := o.agent.Ticket(ctx); err != nil || got != "AGENTTICKET-2" {
		t.Errorf("another app's agent ticket: got %q, %v; want its own, AGENTTICKET-2", got, err)
	}
	if got := f.calls(pathAgentTicket); len(got) != 2 || got[1].rawQuery != "access_token=ACCESSTOKEN-2&type=agent_config" {
		t.Errorf("ticket/get calls: got %+v, want a second one with the other app's token, ACCESSTOKEN-2", got)
	}
	if got := f.calls("/cgi-bin/gettoken"); len(got) != 2 || !strings.Contains(got[1].rawQuery, "corpsecret=S3cretOfTheOtherApp") {
		t.Errorf("gettoken calls: got %+v, want a second one with the other app's secret", got)
	}
	if got := len(f.calls(pathCorpTicket)); got != 1 {
		t.Errorf("get_jsapi_ticket calls: got %d, want 1 (the corp's ticket is the corp's)", got)
	}
}

// TestTicketFetchesForInstancesAndConfigs prints how many fetches N
// instances make for M configs, each of which wants both tickets, with
// each instance's own memory caches and with one Redis.
func TestTicketFetchesForInstancesAndConfigs(t *testing.T) {
	srv := redistest.Start(t)
	for _, shared := range []bool{false, true} {
		for _, n := range []int{1, 5} {
			for _, m := range []int{1, 100} {
				f := newFake(t)
				serveTickets(f)
				var caches func(mp.CredentialKind, string) mp.CredentialCache
				if shared {
					conn := srv.Pool().Get()
					if _, err := conn.Do("FLUSHALL"); err != nil {
						t.Fatal(err)
					}
					conn.Close()
					caches = redisstore.New(srv.Pool()).CredentialCache
				}
				instances := make([]*instance, n)
				for i := range instances {
					instances[i] = newInstance(f.client(), caches)
				}
				configs(t, m, instances, nil)
				token, corp, agent := len(f.calls("/cgi-bin/gettoken")), len(f.calls(pathCorpTicket)), len(f.calls(pathAgentTicket))
				where := "memory"
				if shared {
					where = "Redis"
				}
				t.Logf("N=%d instances, M=%3d configs, %-6s caches: fetches: corp ticket %d, agent ticket %d, access token %d", n, m, where, corp, agent, token)
				want := 1
				if !shared {
					want = min(n, m)
				}
				if corp != want || agent != want || token != want {
					t.Errorf("N=%d, M=%d, %s: fetches corp %d, agent %d, token %d; want %d each", n, m, where, corp, agent, token, want)
				}
			}
		}
	}
}

func TestTicketSourcesRefetchAStaleToken(t *testing.T) {
	for _, kind := range []struct {
		name, path string
		source     func(*instance) mp.TicketSource
	}{
		{"corp", pathCorpTicket, func(in *instance) mp.TicketSource { return in.corp }},
		{"agent", pathAgentTicket, func(in *instance) mp.TicketSource { return in.agent }},
	} {
		for _, stale := range []int{work.CodeInvalidAccessToken, work.CodeAccessTokenExpired} {
			t.Run(fmt.Sprintf("%s/%d", kind.name, stale), func(t *testing.T) {
				f := newFake(t)
				tk := serveTickets(f)
				tk.refuseStale("ACCESSTOKEN-1", stale)
				in := newInstance(f.client(), nil)
				got, err := kind.source(in).Ticket(context.Background())
				if err != nil || got == "" {
					t.Fatalf("Ticket: %q, %v", got, err)
				}
				calls := f.calls(kind.path)
				if len(calls) != 2 || !strings.Contains(calls[1].rawQuery, "access_token=ACCESSTOKEN-2") {
					t.Errorf("%s calls: got %+v, want 2, the second with the fresh ACCESSTOKEN-2", kind.path, calls)
				}
				if got := len(f.calls("/cgi-bin/gettoken")); got != 2 {
					t.Errorf("gettoken calls: got %d, want 2 (the refused token, the fresh one)", got)
				}
			})
		}
		t.Run(kind.name+"/always stale", func(t *testing.T) {
			f := newFake(t)
			tk := serveTickets(f)
			tk.refuseStale("ACCESSTOKEN-1", work.CodeAccessTokenExpired)
			tk.refuseStale("ACCESSTOKEN-2", work.CodeAccessTokenExpired)
			in := newInstance(f.client(), nil)
			_, err := kind.source(in).Ticket(context.Background())
			var e *work.Error
			var be *mp.BackoffError
			if !errors.As(err, &e) || !e.StaleAccessToken() || errors.As(err, &be) {
				t.Fatalf("got %v, want the stale token's *work.Error", err)
			}
			noSecrets(t, err)
			if got := len(f.calls(kind.path)); got != 2 {
				t.Errorf("%s calls: got %d, want 2 (one retry only)", kind.path, got)
			}
		})
	}
}

// TestTicketSourcesNeverCacheFailures checks, on Redis, that an empty
// ticket and a refusal are not cached, are backed off for every instance,
// and that the next fetch after the back-off goes upstream.
func TestTicketSourcesNeverCacheFailures(t *testing.T) {
	srv := redistest.Start(t)
	for _, tt := range []struct {
		name, body string
		check      func(error) bool
	}{
		{"empty", `{"errcode":0,"errmsg":"ok","ticket":"","expires_in":7200}`,
			func(err error) bool { return errors.Is(err, mp.ErrUpstream) }},
		{"refused", `{"errcode":48002,"errmsg":"api forbidden"}`,
			func(err error) bool {
				var e *work.Error
				return errors.As(err, &e) && e.Code == work.CodeAPIForbidden && strings.Contains(err.Error(), "fix: ")
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn := srv.Pool().Get()
			defer conn.Close()
			if _, err := conn.Do("FLUSHALL"); err != nil {
				t.Fatal(err)
			}
			store := redisstore.New(srv.Pool())
			f := newFake(t)
			tk := serveTickets(f)
			tk.replyInstead(pathCorpTicket, tt.body)
			tk.replyInstead(pathAgentTicket, tt.body)
			c1, c2 := f.client(), f.client()
			clock := testclock.New(nop{}, func(now func() time.Time) { work.SetClock(c1, now) })
			work.SetClock(c2, clock.Now)
			a, b := newInstance(c1, store.CredentialCache), newInstance(c2, store.CredentialCache)
			ctx := context.Background()
			for _, src := range []struct {
				name, path, key string
				a, b            mp.TicketSource
			}{
				{"corp", pathCorpTicket, "wechatauth:wecom_jsapi_ticket:" + corpID, a.corp, b.corp},
				{"agent", pathAgentTicket, "wechatauth:wecom_agent_ticket:" + corpID + "/" + agentID, a.agent, b.agent},
			} {
				if _, err := src.a.Ticket(ctx); !tt.check(err) {
					t.Errorf("%s: got %v, want the failure", src.name, err)
				}
				if n, err := redis.Int(conn.Do("EXISTS", src.key)); err != nil || n != 0 {
					t.Errorf("%s: Redis %s exists (%d, %v) after a failed fetch", src.name, src.key, n, err)
				}
				var be *mp.BackoffError
				if _, err := src.b.Ticket(ctx); !errors.As(err, &be) || !tt.check(err) {
					t.Errorf("%s: the other instance got %v, want an *mp.BackoffError over the failure", src.name, err)
				} else {
					noSecrets(t, err)
				}
				if got := len(f.calls(src.path)); got != 1 {
					t.Errorf("%s calls: got %d, want 1 (the other instance backed off)", src.path, got)
				}
			}
			tk.replyInstead(pathCorpTicket, "")
			tk.replyInstead(pathAgentTicket, "")
			clock.Advance(time.Second) // the back-off after one failure
			if got, err := b.corp.Ticket(ctx); err != nil || got != "CORPTICKET-1" {
				t.Errorf("corp after the back-off: got %q, %v; want CORPTICKET-1", got, err)
			}
			if got, err := a.agent.Ticket(ctx); err != nil || got != "AGENTTICKET-1" {
				t.Errorf("agent after the back-off: got %q, %v; want AGENTTICKET-1", got, err)
			}
		})
	}
}

func TestTicketSourcesRefreshAhead(t *testing.T) {
	f := newFake(t)
	serveTickets(f)
	c := f.client()
	clock := testclock.New(nop{}, func(now func() time.Time) { work.SetClock(c, now) })
	in := newInstance(c, nil)
	configs(t, 1, []*instance{in}, nil)
	clock.Advance(7200*time.Second - 6*time.Minute) // not yet within 5 minutes of expiry
	corp, agent := configs(t, 10, []*instance{in}, nil)
	if corp["CORPTICKET-1"] != 10 || agent["AGENTTICKET-1"] != 10 {
		t.Errorf("6 minutes before expiry: corp %v, agent %v; want the cached tickets", corp, agent)
	}
	clock.Advance(2 * time.Minute) // 4 minutes before expiry
	corp, agent = configs(t, 10, []*instance{in}, nil)
	if corp["CORPTICKET-2"] != 10 || agent["AGENTTICKET-2"] != 10 {
		t.Errorf("4 minutes before expiry: corp %v, agent %v; want new tickets", corp, agent)
	}
	for path, want := range map[string]int{pathCorpTicket: 2, pathAgentTicket: 2} {
		if got := len(f.calls(path)); got != want {
			t.Errorf("%s calls: got %d, want %d", path, got, want)
		}
	}
}

// TestTicketSourcesInvalidate checks that Invalidate drops only the
// ticket named, of its own kind.
func TestTicketSourcesInvalidate(t *testing.T) {
	f := newFake(t)
	serveTickets(f)
	in := newInstance(f.client(), nil)
	ctx := context.Background()
	configs(t, 1, []*instance{in}, nil)
	if err := in.corp.Invalidate(ctx, "AGENTTICKET-1"); err != nil {
		t.Fatal(err)
	}
	if err := in.agent.Invalidate(ctx, "CORPTICKET-1"); err != nil {
		t.Fatal(err)
	}
	corp, agent := configs(t, 1, []*instance{in}, nil)
	if corp["CORPTICKET-1"] != 1 || agent["AGENTTICKET-1"] != 1 {
		t.Errorf("after invalidating the other kind's ticket: corp %v, agent %v; want both kept", corp, agent)
	}
	if err := in.agent.Invalidate(ctx, "AGENTTICKET-1"); err != nil {
		t.Fatal(err)
	}
	corp, agent = configs(t, 1, []*instance{in}, nil)
	if corp["CORPTICKET-1"] != 1 || agent["AGENTTICKET-2"] != 1 {
		t.Errorf("after invalidating the agent ticket: corp %v, agent %v; want CORPTICKET-1 kept, AGENTTICKET-2", corp, agent)
	}
	if got := len(f.calls("/cgi-bin/gettoken")); got != 1 {
		t.Errorf("gettoken calls: got %d, want 1 (the token was never refused)", got)
	}
}

// TestTicketSourcesRenewLimiter checks that each ticket source forwards
// the renewal interval to its cache: one renewal among five instances on
// Redis, for each ticket apart, and errors.ErrUnsupported with a memory
// cache.
func TestTicketSourcesRenewLimiter(t *testing.T) {
	srv := redistest.Start(t)
	store := redisstore.New(srv.Pool())
	f := newFake(t)
	serveTickets(f)
	instances := make([]*instance, 5)
	for i := range instances {
		instances[i] = newInstance(f.client(), store.CredentialCache)
	}
	ctx := context.Background()
	for _, kind := range []struct {
		name   string
		source func(*instance) mp.TicketSource
	}{
		{"corp", func(in *instance) mp.TicketSource { return in.corp }},
		{"agent", func(in *instance) mp.TicketSource { return in.agent }},
	} {
		allowed := 0
		for _, in := range instances {
			l, ok := kind.source(in).(mp.RenewLimiter)
			if !ok {
				t.Fatalf("%s: the ticket source is not an mp.RenewLimiter", kind.name)
			}
			ok, err := l.AllowRenew(ctx, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				allowed++
			}
		}
		if allowed != 1 {
			t.Errorf("%s: renewals allowed among 5 instances: %d, want 1", kind.name, allowed)
		}
	}

	local := newInstance(f.client(), nil)
	for _, src := range []mp.TicketSource{local.corp, local.agent} {
		_, err := src.(mp.RenewLimiter).AllowRenew(ctx, time.Minute)
		if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "WeCom") {
			t.Errorf("memory cache: got %v, want errors.ErrUnsupported naming the WeCom ticket", err)
		}
	}
}

// TestJSSDKSignsWithWeComTickets signs 100 configs at once with package
// jssdk as it is, once with each ticket: one fetch each, each signature
// made with its own ticket; and WeCom's worked example through a fetched
// ticket.
func TestJSSDKSignsWithWeComTickets(t *testing.T) {
	f := newFake(t)
	tk := serveTickets(f)
	in := newInstance(f.client(), nil)
	const page = "https://app.example.com/page?x=1"
	for _, kind := range []struct {
		name, path, ticket string
		source             mp.TicketSource
	}{
		{"wx.config", pathCorpTicket, "CORPTICKET-1", in.corp},
		{"wx.agentConfig", pathAgentTicket, "AGENTTICKET-1", in.agent},
	} {
		t.Run(kind.name, func(t *testing.T) {
			s, err := jssdk.New(jssdk.Options{AppID: corpID, Tickets: kind.source, Origins: []string{"https://app.example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			entered, release := tk.hold()
			const m = 100
			var started, wg sync.WaitGroup
			started.Add(m)
			go func() { started.Wait(); <-entered; release() }()
			cfgs := make([]jssdk.Config, m)
			errs := make([]error, m)
			for i := range m {
				wg.Add(1)
				go func() {
					defer wg.Done()
					started.Done()
					cfgs[i], errs[i] = s.Sign(context.Background(), page)
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			for _, c := range cfgs {
				if want := jssdk.Signature(kind.ticket, c.NonceStr, c.Timestamp, page); c.Signature != want {
					t.Fatalf("config %+v: signature %s, want %s, made with %s", c, c.Signature, want, kind.ticket)
				}
			}
			if got := len(f.calls(kind.path)); got != 1 {
				t.Errorf("%s calls: got %d, want 1", kind.path, got)
			}
		})
	}

	// WeCom's worked example, which is the Official Account's.
	const docTicket = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
	f.reply(pathCorpTicket, `{"errcode":0,"errmsg":"ok","ticket":"`+docTicket+`","expires_in":7200}`)
	got, err := newInstance(f.client(), nil).corp.Ticket(context.Background())
	if err != nil || got != docTicket {
		t.Fatalf("Ticket: %q, %v", got, err)
	}
	if sig := jssdk.Signature(got, "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value"); sig != "0f9de62fce790f9a083d5c99e95740ceb90c27ed" {
		t.Errorf("worked example: signature %s, want 0f9de62fce790f9a083d5c99e95740ceb90c27ed", sig)
	}
}
