package wecom_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestMemberLogsInInsideWeCom(t *testing.T) {
	h := newHarness(t, nil)
	c := h.browser(true)
	body := h.loginWith(c, "/account/orders?id=7")
	if !strings.HasPrefix(body, "path=/account/orders?id=7 member=true userid=zhangsan corpid= openid= ") {
		t.Errorf("page: %q", body)
	}
	if n := h.exchanges(); n != 1 {
		t.Errorf("exchanges: %d, want 1", n)
	}
	h.assertLoggedIn(c, "zhangsan")
	if n := h.exchanges(); n != 1 {
		t.Errorf("exchanges after a logged-in request: %d, want 1", n)
	}
	_ = http.StatusOK
}
