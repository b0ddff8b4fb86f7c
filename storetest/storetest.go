// Package storetest proves a store of your own against the contract of
// wechatauth's store interfaces, as [testing/fstest] proves a file system: a
// Postgres or etcd store calls the runner of each interface it implements
// from its own tests, and passes when it keeps the contract the middleware
// relies on. The module's own [wechatauth.MemoryStore] and redisstore.Store
// pass it.
//
// [TestUserStore] checks that a user never saved is [wechatauth.ErrNotFound],
// that every field of a User survives a save and a read (fields added to
// User later too), that saving replaces, and the lookup by unionid: the
// user last saved with it, not found once that user's unionid changed.
// The contract lets a store keep no unionids; such a store skips the
// lookup's check. [TestTokenStore] checks the same of an [mp.Token] by openid.
// [TestCallbackStore] checks the exchange-once protocol of a login's
// callback: that Claim is atomic under 50 concurrent callers; that a
// claimed key reads as a nil record with a nil error (how the middleware
// remembers a refused code); that Finish with a record keeps it, and with
// none lets the claim go; that keys with ':' in them (the middleware
// writes "refused:<hex>", "code:<hex>", "<hex>:second:1") are keys of
// their own; and that claims and records end with their ttl, and not
// before.
//
// Each check runs as a subtest of t, on an empty store from newStore,
// which gets that subtest's *testing.T. In the store's test file:
//
//	func TestUserStore(t *testing.T) {
//		storetest.TestUserStore(t, func(t *testing.T) wechatauth.UserStore {
//			return pgstore.New(freshDatabase(t)) // dropped in t.Cleanup
//		})
//	}
//
// and likewise TestTokenStore and TestCallbackStore.
//
// The expiry check runs on the wall clock, since the store keeps its own:
// it polls until the store has forgotten a claim of 50 ms, and gives up 30
// seconds past the ttl (times WECHATAUTH_TEST_TIMEOUT_SCALE when that is
// set, for very busy machines).
package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth"
)

// TestUserStore runs the checks of [wechatauth.UserStore], each as a subtest
// of t on an empty store from newStore.
func TestUserStore(t *testing.T, newStore func(t *testing.T) wechatauth.UserStore) {
	t.Helper()
	runChecks(t, userChecks, newStore)
}

// TestTokenStore runs the checks of [wechatauth.TokenStore], each as a
// subtest of t on an empty store from newStore.
func TestTokenStore(t *testing.T, newStore func(t *testing.T) wechatauth.TokenStore) {
	t.Helper()
	runChecks(t, tokenChecks, newStore)
}

// TestCallbackStore runs the checks of [wechatauth.CallbackStore], each as a
// subtest of t on an empty store from newStore.
func TestCallbackStore(t *testing.T, newStore func(t *testing.T) wechatauth.CallbackStore) {
	t.Helper()
	runChecks(t, callbackChecks, newStore)
}

// checker is the part of *testing.T that the checks use, so that the
// package's own tests can run them on broken stores and see them fail.
type checker interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// check is one check of a store of type S.
type check[S any] struct {
	name string
	run  func(t checker, s S)
}

func runChecks[S any](t *testing.T, checks []check[S], newStore func(t *testing.T) S) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			if any(s) == nil {
				t.Fatal("newStore returned nil")
			}
			c.run(t, s)
		})
	}
}

// fill sets every field of the struct *v to a non-zero value of its own,
// so that a round trip that drops a field, including one added later,
// shows.
func fill(v any) error {
	rv := reflect.ValueOf(v).Elem()
	at := time.Now().UTC().Truncate(time.Second).Add(time.Hour)
	for i := range rv.NumField() {
		f, name := rv.Field(i), rv.Type().Field(i).Name
		switch {
		case f.Kind() == reflect.String:
			f.SetString("v-" + name)
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.Type() == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(at.Add(time.Duration(i) * time.Minute)))
		default:
			return fmt.Errorf("field %s of %v has type %v, which storetest cannot fill yet", name, rv.Type(), f.Type())
		}
	}
	return nil
}

// diff lists the fields in which the structs got and want differ, one
// "Name: got …, want …" each. Times are compared as instants, so a store
// may give them back in another location.
func diff[V any](got, want V) []string {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	var out []string
	for i := range g.NumField() {
		gf, wf := g.Field(i).Interface(), w.Field(i).Interface()
		same, verb := reflect.DeepEqual(gf, wf), "%#v"
		if gt, ok := gf.(time.Time); ok {
			same, verb = gt.Equal(wf.(time.Time)), "%v"
		}
		if !same {
			out = append(out, fmt.Sprintf("%s: got "+verb+", want "+verb, g.Type().Field(i).Name, gf, wf))
		}
	}
	return out
}
