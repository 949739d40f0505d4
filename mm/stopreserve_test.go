package mm_test

import (
	"testing"

	"ntgo/mm"
	"ntgo/mm/pfn"
	"ntgo/nt/arch"
)

// Boot holds mm.StopReservePages frames (fewer on a small machine) off the lists, active and owned
// by no PTE; opening the reserve puts every one of them back on a list,
// and a second opening frees nothing twice.
func TestStopReserveGivenBack(t *testing.T) {
	if !arch.Bare() {
		t.Skip("the reserve is taken at boot: run with `make ktest PKG=./mm`")
	}
	held, open := mm.StopReserve()
	if open {
		t.Skip("a stop has begun")
	}
	if want := mm.StopReserveSize(); len(held) != want || want == 0 {
		t.Fatalf("boot held %d frames for a stop, want %d", len(held), want)
	}
	for _, f := range held {
		if in, ok := mm.PFN.Decode(f); !ok || in.State != pfn.StateActive || in.Pte != 0 || in.RefCount != 1 {
			t.Fatalf("held frame %#x: %+v (decoded %v), want active with one reference and no PTE", f, in, ok)
		}
	}
	// With the others stalled, nothing takes a frame between the opening
	// and the look.
	var after [mm.StopReservePages]pfn.Info
	uninterrupted(func() {
		mm.OpenStopReserve()
		mm.OpenStopReserve()
		for i, f := range held {
			after[i], _ = mm.PFN.Decode(f)
		}
	})
	for _, in := range after[:len(held)] {
		if in.State != pfn.StateFree && in.State != pfn.StateZeroed {
			t.Errorf("frame %#x is %v after the reserve opened, want on the free or zeroed list", in.Frame, in.State)
		}
	}
	if err := mm.PFN.Check(); err != nil {
		t.Fatal(err)
	}
}
