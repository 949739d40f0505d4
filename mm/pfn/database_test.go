package pfn

import (
	"testing"
	"unsafe"

	"ntgo/mm/physmem"
	"ntgo/nt/ntstatus"
)

func TestEntrySize(t *testing.T) {
	if s := unsafe.Sizeof(Entry{}); s > 32 {
		t.Fatalf("Entry is %d bytes, want at most 32", s)
	}
}

func TestSize(t *testing.T) {
	for _, tc := range []struct {
		name   string
		m      []Range
		frames physmem.PFN
		st     ntstatus.Status
	}{
		{"test map", testMap, testFrames, ntstatus.Success},
		{"empty", nil, 0, ntstatus.Success},
		{"partial free frames round inward", []Range{{Base: 100, Length: 2 * page, Type: RangeFree}}, 2, ntstatus.Success},
		{"partial in-use frames round outward", []Range{{Base: page + 100, Length: page, Type: RangeInUse}}, 3, ntstatus.Success},
		{"reserved costs nothing", []Range{{Base: 0, Length: 1 << 50, Type: RangeReserved}}, 0, ntstatus.Success},
		{"zero length", []Range{{Base: 1 << 30, Length: 0, Type: RangeFree}}, 0, ntstatus.Success},
		{"sub-frame free range", []Range{{Base: 1<<64 - 10, Length: 5, Type: RangeFree}}, 0, ntstatus.Success},
		{"wraps around", []Range{{Base: 1<<64 - page, Length: 2 * page, Type: RangeFree}}, 0, ntstatus.InvalidParameter},
		{"unknown type", []Range{{Base: 0, Length: page, Type: RangeReserved + 1}}, 0, ntstatus.InvalidParameter},
		{"beyond 32-bit links", []Range{{Base: noLink * page, Length: page, Type: RangeFree}}, 0, ntstatus.NotSupported},
		{"largest database", []Range{{Base: (noLink - 1) * page, Length: page, Type: RangeFree}}, noLink, ntstatus.Success},
	} {
		n, bytes, st := Size(tc.m)
		if n != tc.frames || st != tc.st || bytes != uintptr(n)*unsafe.Sizeof(Entry{}) {
			t.Errorf("%s: Size = %d frames, %d bytes, %v; want %d frames, %v", tc.name, n, bytes, st, tc.frames, tc.st)
		}
	}
}

// The database's cost counts every entry, holes included, against RAM only.
func TestDatabaseCost(t *testing.T) {
	s := newFixture(t, testMap).db.Stats()
	if got, want := s.DatabaseBytes(), uint64(testFrames)*uint64(unsafe.Sizeof(Entry{})); got != want {
		t.Errorf("DatabaseBytes = %d, want %d", got, want)
	}
	ramBytes := float64((testFree + testInUse) * page)
	if got, want := s.DatabasePercentOfRAM(), float64(s.DatabaseBytes())*100/ramBytes; got != want {
		t.Errorf("DatabasePercentOfRAM = %v, want %v", got, want)
	}
}

func TestInit(t *testing.T) {
	f := newFixture(t, testMap)
	if got := f.db.Frames(); got != testFrames {
		t.Fatalf("Frames = %d", got)
	}
	want := func(p physmem.PFN) State {
		switch {
		case p == 0 || p >= 16 && p < 24:
			return StateReserved
		case p == 32 || p == 33:
			return StateActive
		}
		return StateFree
	}
	prev := NoFrame
	for p := physmem.PFN(0); p < testFrames; p++ {
		i := f.info(p)
		if i.State != want(p) {
			t.Fatalf("frame %d is %v, want %v", p, i.State, want(p))
		}
		switch i.State {
		case StateFree:
			// The free list starts in ascending order.
			if i.Blink != prev {
				t.Fatalf("frame %d: blink %#x, want %#x", p, i.Blink, prev)
			}
			prev = p
		case StateActive:
			if i.RefCount != 1 || i.ShareCount != 1 || i.Cache != Cached || i.Pte != 0 {
				t.Fatalf("loader frame: %v", i)
			}
		}
	}
	s := f.db.Stats()
	if s.Frames != testFrames || s.ByState[StateFree] != testFree || s.ByState[StateActive] != testInUse ||
		s.ByState[StateReserved] != testReserved || s.Available() != testFree {
		t.Fatalf("stats:\n%v", s)
	}
	// Loader frames can be given back.
	f.db.Free(32, 0)
	f.wantState(32, StateFree)
	f.check()
}

func TestInitOverlapPriority(t *testing.T) {
	// Listed lowest priority last: order in the map must not matter.
	f := newFixture(t, []Range{
		{Base: 2 * page, Length: 2 * page, Type: RangeReserved},
		{Base: page, Length: 4 * page, Type: RangeInUse},
		{Base: 0, Length: 8 * page, Type: RangeFree},
	})
	for p, s := range []State{StateFree, StateActive, StateReserved, StateReserved, StateActive, StateFree, StateFree, StateFree} {
		f.wantState(physmem.PFN(p), s)
	}
}

func TestInitErrors(t *testing.T) {
	var db Database
	sim := physmem.NewSim(1)
	defer sim.Close()
	if st := db.Init(make([]Entry, testFrames-1), testMap, sim); st != ntstatus.BufferTooSmall {
		t.Errorf("short storage: %v", st)
	}
	if st := db.Init(nil, []Range{{Base: 1<<64 - page, Length: 2 * page}}, sim); st != ntstatus.InvalidParameter {
		t.Errorf("wrapping range: %v", st)
	}
}

func TestInitOverMmapStorage(t *testing.T) {
	// The kernel hands Init storage outside the Go heap; simulate that
	// with the bytes of a Sim.
	n, bytes, _ := Size(testMap)
	store := physmem.NewSim(physmem.PFN(bytes+page-1) / page)
	defer store.Close()
	sim := physmem.NewSim(n)
	defer sim.Close()
	entries := unsafe.Slice((*Entry)(unsafe.Pointer(store.Frame(0))), n)
	var db Database
	if st := db.Init(entries, testMap, sim); st != ntstatus.Success {
		t.Fatal(st)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}

// Move switches the database to a copy of its entries and to other memory
// for frame contents, as the kernel does when it leaves the identity map.
func TestMove(t *testing.T) {
	f := newFixture(t, testMap)
	old := f.db.entries
	moved := make([]Entry, len(old)+1) // storage may be larger than needed
	copy(moved, old)
	mem := physmem.NewSim(f.db.Frames())
	defer mem.Close()
	p := physmem.PFN(f.db.lists[nodeList(0, StateFree)].first)
	mem.Frame(p)[0] = 1
	f.db.Move(moved, mem)
	if got, ok := f.db.AllocateZeroed(0, 0); !ok || got != p {
		t.Fatalf("allocated %#x, %v; want the free list's head %#x", got, ok, p)
	}
	if mem.Frame(p)[0] != 0 {
		t.Error("the frame was not zeroed through the new memory")
	}
	if old[p].state != StateFree || moved[p].state != StateActive {
		t.Errorf("frame %#x is %v in the old storage and %v in the new", p, old[p].state, moved[p].state)
	}
	if f.db.Frames() != physmem.PFN(len(old)) {
		t.Errorf("%d frames after the move, want %d", f.db.Frames(), len(old))
	}
	if err := f.db.Check(); err != nil {
		t.Fatal(err)
	}
}
