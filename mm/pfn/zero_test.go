package pfn

import (
	"testing"

	"ntgo/mm/physmem"
)

// zeroWatch is simulated memory that looks at the database each time the
// zero-page worker clears a frame.
type zeroWatch struct {
	*physmem.Sim
	f       *fixture
	cleared int
}

func (z *zeroWatch) ZeroFrame(p physmem.PFN) {
	f := z.f
	if f.db.lock.Held() {
		f.t.Errorf("frame %#x cleared with the PFN lock held", p)
	} else {
		// Taking the lock here is what another processor's fault does.
		f.check()
		i := f.info(p)
		if i.State != StateTransition || i.RefCount != 1 || i.Pte != 0 || i.Flink != NoFrame || i.Blink != NoFrame {
			f.t.Errorf("frame %#x while cleared: %+v, want a Transition frame held once, off the lists", p, i)
		}
		if n := f.count(StateTransition); n != 1 {
			f.t.Errorf("%d Transition frames while one is cleared", n)
		}
	}
	z.Sim.ZeroFrame(p)
	z.cleared++
}

// ZeroSome clears each frame without the PFN lock, the frame held as
// Transition meanwhile, and every frame it took ends zeroed.
func TestZeroSomeClearsWithoutTheLock(t *testing.T) {
	f := newFixture(t, testMap)
	z := &zeroWatch{Sim: f.sim, f: f}
	f.db.mem = z
	f.fill(1, 7) // a free frame with contents
	if got := f.db.ZeroSome(5); got != 5 || z.cleared != 5 {
		t.Fatalf("ZeroSome(5) = %d, %d frames cleared", got, z.cleared)
	}
	if n := f.count(StateTransition); n != 0 {
		t.Fatalf("%d Transition frames after ZeroSome", n)
	}
	if n := f.count(StateZeroed); n != 5 {
		t.Fatalf("%d zeroed frames, want 5", n)
	}
	f.check()
}
