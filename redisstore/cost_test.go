package redisstore_test

import (
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/wechattest"
)

// TestWhatAUserCostsInRedis logs users in through one instance and prints
// what each costs in Redis, by kind of key, right after the login and once
// the login's short-lived records are gone. It prints the figures of
// BENCHMARKS.md; WECHATAUTH_COST_USERS sets how many users (default 200).
func TestWhatAUserCostsInRedis(t *testing.T) {
	users := 200
	if n, err := strconv.Atoi(os.Getenv("WECHATAUTH_COST_USERS")); err == nil && n > 0 {
		users = n
	}
	for _, scope := range []wechatauth.Scope{wechatauth.ScopeBase, wechatauth.ScopeUserInfo} {
		t.Run(string(scope), func(t *testing.T) {
			c := newCluster(t, clusterConfig{scope: scope})
			conn := c.redis.Pool().Get()
			defer conn.Close()
			mem0 := usedMemory(t, conn)
			for i := 0; i < users; i++ {
				id := fmt.Sprintf("oCostUser%019d", i)
				c.wx.AddUser(wechattest.User{OpenID: id, Nickname: "用户" + strconv.Itoa(i), HeadImgURL: "https://thirdwx.qlogo.cn/mmopen/vi_32/" + strings.Repeat("Q", 90) + "/132"})
				c.wx.SetVisitor(id)
				if resp, body := c.browser().visit("a", "/account/"); resp.StatusCode != http.StatusOK {
					t.Fatalf("login %d: status %d, body %q", i, resp.StatusCode, body)
				}
			}
			total := usedMemory(t, conn) - mem0
			kinds := map[string][2]int64{} // kind: keys, bytes
			keys, err := redis.Strings(conn.Do("KEYS", "*"))
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				n, err := redis.Int64(conn.Do("MEMORY", "USAGE", k, "SAMPLES", "0"))
				if err != nil {
					t.Fatal(err)
				}
				kind := k
				if i := strings.LastIndexByte(k, ':'); i >= 0 {
					kind = k[:i]
				}
				v := kinds[kind]
				kinds[kind] = [2]int64{v[0] + 1, v[1] + n}
			}
			var names []string
			for k := range kinds {
				names = append(names, k)
			}
			sort.Strings(names)
			var lasting int64
			for _, k := range names {
				v := kinds[k]
				short := strings.HasSuffix(k, ":login") || strings.HasSuffix(k, ":refused")
				if !short {
					lasting += v[1]
				}
				t.Logf("%-22s %6d keys %8.0f bytes a user (short-lived: %v)", k, v[0], float64(v[1])/float64(users), short)
			}
			t.Logf("%s, %d users: %.0f bytes of Redis memory a user right after the login; %.0f bytes a user in keys that last (sessions, users, tokens)",
				scope, users, float64(total)/float64(users), float64(lasting)/float64(users))
			if scope == wechatauth.ScopeBase && kinds["wechatauth:token"][0] != 0 {
				t.Errorf("snsapi_base logins left %d token records; nothing can use them", kinds["wechatauth:token"][0])
			}
		})
	}
}

func usedMemory(t *testing.T, conn redis.Conn) int64 {
	t.Helper()
	info, err := redis.String(conn.Do("INFO", "memory"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if s, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(s, 10, 64)
			return n
		}
	}
	t.Fatal("INFO memory: no used_memory")
	return 0
}
