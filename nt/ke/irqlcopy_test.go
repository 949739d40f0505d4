package ke_test

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

// transition is one IRQL change and what CR8 and the copy read after it.
type transition struct {
	op             string
	want, cr8, cpy ke.KIRQL
}

// TestIrqlCopyFollowsCR8 raises from every level to every level at or above
// it and lowers back, and after each transition reads CR8 (GetCurrentIrql)
// and the software copy (CurrentIrql): both must be the level just set. The
// readings are kept in an array and reported at PASSIVE_LEVEL, since the
// test's reporting allocates.
func TestIrqlCopyFollowsCR8(t *testing.T) {
	const levels = int(ke.HighLevel) + 1
	var seen [levels * (levels + 1)]transition
	n := 0
	record := func(op string, want ke.KIRQL) {
		seen[n] = transition{op, want, ke.GetCurrentIrql(), ke.CurrentIrql()}
		n++
	}
	for from := ke.PassiveLevel; from <= ke.HighLevel; from++ {
		base := ke.RaiseIrql(from)
		for to := from; to <= ke.HighLevel; to++ {
			ke.RaiseIrql(to)
			record("raise", to)
			ke.LowerIrql(from)
			record("lower", from)
		}
		ke.LowerIrql(base)
	}
	for _, s := range seen[:n] {
		if s.cr8 != s.want || s.cpy != s.want {
			t.Errorf("%s to %d: CR8 says %d, the copy %d", s.op, s.want, s.cr8, s.cpy)
		}
	}
	if n == 0 || ke.CurrentIrql() != ke.PassiveLevel {
		t.Fatalf("%d transitions, ended at %d", n, ke.CurrentIrql())
	}
}

// TestIrqlCopyAtInterrupts changes the IRQL as fast as it can, on more
// goroutines than processors so that threads switch and move between
// processors, while interrupts arrive; every interrupt entry compares the
// copy with CR8 (CheckIrqlCopy), and none may find them apart. Raising to
// DISPATCH_LEVEL leaves the timer unmasked, so interrupts land between the
// transitions.
func TestIrqlCopyAtInterrupts(t *testing.T) {
	if !arch.Bare() {
		t.Skip("interrupts and CR8 exist only on bare metal")
	}
	const wantInterrupts = 50
	checks0, mismatches0 := ke.IrqlCopyChecks()
	var stop atomic.Bool
	var stale atomic.Uint64 // raises from PASSIVE_LEVEL that read another level
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) + 1 {
		wg.Go(func() {
			for !stop.Load() {
				for range 1000 {
					if ke.RaiseIrql(ke.DispatchLevel) != ke.PassiveLevel {
						stale.Add(1)
					}
					ke.LowerIrql(ke.PassiveLevel)
				}
			}
		})
	}
	// A few seconds, not a count of interrupts: a thread that moves between
	// reading its processor and setting the IRQL is rare (CI saw one in 53).
	time.Sleep(3 * time.Second)
	checks, mismatches := ke.IrqlCopyChecks()
	stop.Store(true)
	wg.Wait()
	if checks-checks0 < wantInterrupts {
		t.Fatalf("only %d interrupts in 3 s", checks-checks0)
	}
	if mismatches != mismatches0 {
		t.Errorf("%d of %d interrupt entries found the IRQL copy apart from CR8", mismatches-mismatches0, checks-checks0)
	}
	if n := stale.Load(); n != 0 {
		t.Errorf("%d raises from PASSIVE_LEVEL found the copy at another level", n)
	}
	fmt.Printf("irql copy: %d interrupt entries checked, %d mismatches\n", checks-checks0, mismatches-mismatches0)
}
