package wechattest

import (
	"fmt"
	"net/http"
	"time"
)

// pathAdvance is the emulator's own endpoint that moves its clock, for a
// process that runs it on its own (cmd/wechatemu) and cannot call Advance.
const pathAdvance = "/_emulator/advance"

// handleAdvance serves POST /_emulator/advance?d=2h: it moves the clock
// forward by d as Advance does, and answers
// {"advanced":"2h0m0s","now":"…"}, the emulator's time after the move in
// RFC 3339. A d that is missing, not a Go duration or not positive gets
// HTTP 400.
func (s *Server) handleAdvance(w http.ResponseWriter, r *http.Request) {
	d, err := time.ParseDuration(r.URL.Query().Get("d"))
	if err != nil || d <= 0 {
		http.Error(w, fmt.Sprintf("wechattest: d must be a positive duration such as 90s, 2h or 720h (30 days), got %q", r.URL.Query().Get("d")), http.StatusBadRequest)
		return
	}
	s.Advance(d)
	s.mu.Lock()
	now := s.nowLocked()
	s.mu.Unlock()
	writeJSON(w, r, map[string]any{"advanced": d.String(), "now": now.Format(time.RFC3339)})
}
