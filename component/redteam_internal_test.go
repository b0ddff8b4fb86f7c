package component

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// A flood of handled authorization events (each one WeChat-signed, and
// distinct) keeps at most maxHandled in memory; the newest stay.
func TestRedTeamHandledPushesStayBounded(t *testing.T) {
	now := time.Unix(1700000000, 0)
	m := &memoryHandled{now: func() time.Time { return now }}
	ctx := context.Background()
	for i := range 3 * maxHandled {
		if err := m.MarkHandled(ctx, fmt.Sprint(i), 20*time.Minute); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Millisecond)
	}
	if n := len(m.keys); n > maxHandled {
		t.Errorf("%d keys kept, want at most %d", n, maxHandled)
	}
	if seen, _ := m.Handled(ctx, fmt.Sprint(3*maxHandled-1)); !seen {
		t.Error("the newest event was forgotten")
	}
}
