package kernel

import "testing"

// Faults that find no frame: a run of them, each within noFrameGap of the
// last and with the pager's progress count unchanged, stops after
// noPagesWait; progress, or a pause longer than noFrameGap, begins the
// wait again.
func TestNoFrameEpisodes(t *testing.T) {
	const hz = 1000 // ticks per second
	const step = hz * noFrameGap / 2
	run := func(w *noFrameWait, from, progress uint64) (end uint64) {
		now := from
		for ; now-from <= hz*noPagesWait; now += step {
			if w.tooLong(now, hz, progress) {
				t.Fatalf("stopped %d ticks into the wait (limit %d)", now-from, hz*noPagesWait)
			}
		}
		return now
	}
	var w noFrameWait
	end := run(&w, 1, 7)
	if !w.tooLong(end, hz, 7) {
		t.Fatalf("still waiting %d ticks into a wait without progress", end-1)
	}
	w = noFrameWait{}
	end = run(&w, 1, 7)
	run(&w, end, 8) // fails if progress did not restart the wait
	w = noFrameWait{}
	end = run(&w, 1, 7)
	run(&w, end+hz*noFrameGap+1, 7) // fails if the pause did not end the episode
}
