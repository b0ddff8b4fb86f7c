package testclock

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// ScaleEnv names the environment variable that multiplies every cap the
// tests put on a wait for an event: the browser tests' budgets, polls for a
// condition, waits for a log line or a goroutine to end. It is a positive
// number, 1 by default; WECHATAUTH_TEST_TIMEOUT_SCALE=3 gives a busy
// machine three times as long. The caps are generous already (they are
// never what a passing test waits for, only how long a failing one takes
// to say so), so this is for machines that are very busy or very slow.
// With a large factor, raise go test's own -timeout (10m by default) too.
const ScaleEnv = "WECHATAUTH_TEST_TIMEOUT_SCALE"

// Scale is the factor from ScaleEnv: 1 when unset, empty or not a
// positive number.
func Scale() float64 {
	f, err := strconv.ParseFloat(os.Getenv(ScaleEnv), 64)
	if err != nil || !(f > 0) {
		return 1
	}
	return f
}

// Patience is d scaled by ScaleEnv: the cap of a wait for something that
// normally takes a small fraction of d.
func Patience(d time.Duration) time.Duration {
	return time.Duration(float64(d) * Scale())
}

// RanOut says that who took more than d (for task, when not empty), that
// the machine may be busy, and how to allow more: the message for a wait
// whose cap, from Patience, ran out.
func RanOut(who string, d time.Duration, task string) string {
	if task != "" {
		task = " for " + task
	}
	more := strconv.FormatFloat(2*Scale(), 'f', -1, 64)
	return fmt.Sprintf("%s took more than %v%s; the machine may be busy; set %s=%s (or more) to allow more",
		who, d.Round(time.Second/10), task, ScaleEnv, more)
}
