package sitetest

import (
	"testing"
	"time"
)

// The ratios of rounds are per round, sorted, and the times per call are
// over every round.
func TestRoundsRatiosAndTimes(t *testing.T) {
	rounds := Rounds{
		{100 * time.Microsecond, 300 * time.Microsecond},
		{200 * time.Microsecond, 200 * time.Microsecond},
		{100 * time.Microsecond, 200 * time.Microsecond},
	}
	ratios := rounds.Ratios(1, 0)
	if want := []float64{1, 2, 3}; len(ratios) != len(want) || ratios[0] != want[0] || ratios[1] != want[1] || ratios[2] != want[2] {
		t.Errorf("Ratios(1, 0): got %v, want %v", ratios, want)
	}
	if got := Quantile(ratios, 0.5); got != 2 {
		t.Errorf("median: got %v, want 2", got)
	}
	if got := Quantile(ratios, 0.1); got != 1 {
		t.Errorf("p10: got %v, want 1", got)
	}
	if got := Quantile(ratios, 0.9); got != 2 {
		t.Errorf("p90 of three rounds: got %v, want 2 (the index rounds down)", got)
	}
	if got, want := rounds.NsPerCall(0), float64(400_000)/(3*PerRound); got != want {
		t.Errorf("NsPerCall(0): got %v, want %v", got, want)
	}
}
