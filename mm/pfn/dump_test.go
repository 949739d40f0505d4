package pfn

import (
	"errors"
	"testing"

	"ntgo/mm/physmem"
	"ntgo/nt/ntstatus"
)

func TestDumpRoundTrip(t *testing.T) {
	f := newFixture(t, testMap)
	a, b := f.alloc(true), f.alloc(false)
	f.alloc(true)
	f.db.Unmap(a, true, false)
	f.db.Free(b, testPte(2))
	if _, st := f.db.AllocateContiguous(3, 0, testFrames, 0, Uncached); st != ntstatus.Success {
		t.Fatalf("AllocateContiguous: %v", st)
	}
	f.check()

	view, err := OpenDump(f.db.AppendDump(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := view.Stats(), f.db.Stats(); got != want {
		t.Fatalf("Stats: %v, want %v", got, want)
	}
	for p := physmem.PFN(0); p < testFrames; p++ {
		got, _ := view.Decode(p)
		if want := f.info(p); got != want {
			t.Fatalf("frame %#x: %v, want %v", p, got, want)
		}
	}
	if _, ok := view.Decode(testFrames); ok {
		t.Fatal("the view decodes a frame beyond the database")
	}
	if err := view.Check(); err != nil {
		t.Fatalf("the view fails Check: %v", err)
	}
}

// A snapshot reads as the database did when it was taken, and Snapshot
// allocates nothing (the bugcheck path calls it before anything else).
func TestSnapshot(t *testing.T) {
	f := newFixture(t, testMap)
	snap := f.db.NewSnapshot()
	a := f.alloc(true)
	f.db.Free(f.alloc(false), testPte(2))
	if allocs := testing.AllocsPerRun(10, func() { f.db.Snapshot(snap) }); allocs != 0 {
		t.Fatalf("Snapshot allocates %v times", allocs)
	}
	if got, want := snap.Stats(), f.db.Stats(); got != want {
		t.Fatalf("Stats: %v, want %v", got, want)
	}
	for p := physmem.PFN(0); p < testFrames; p++ {
		if got, _ := snap.Decode(p); got != f.info(p) {
			t.Fatalf("frame %#x: %v, want %v", p, got, f.info(p))
		}
	}
	f.db.Unmap(a, true, false)
	if got, _ := snap.Decode(a); got.State != StateActive {
		t.Fatalf("the snapshot follows the database: frame %#x %v", a, got.State)
	}
}

func TestOpenDumpRefusesDamage(t *testing.T) {
	f := newFixture(t, testMap)
	good := f.db.AppendDump(nil)
	otherLayout := append([]byte(nil), good...)
	otherLayout[0]++
	for name, b := range map[string][]byte{
		"empty":        nil,
		"truncated":    good[:len(good)-1],
		"extended":     append(append([]byte(nil), good...), 0),
		"other layout": otherLayout,
	} {
		if _, err := OpenDump(b); !errors.Is(err, ErrBadDump) {
			t.Errorf("%s: %v, want ErrBadDump", name, err)
		}
	}
}
