package pfn

import (
	"errors"
	"strings"
	"testing"

	"ntgo/nt/bugcheck"
)

// TestCorruptionBugchecks damages the (caller-owned) entry storage the way a
// stray write would and checks that the lists notice before using it.
func TestCorruptionBugchecks(t *testing.T) {
	const highest = 4 // smallMap's highest frame
	for _, tc := range []struct {
		name    string
		corrupt func(db *Database)
		op      func(db *Database)
		params  []uintptr
	}{
		{"head without count", func(db *Database) { db.lists[nodeList(0, StateFree)].first = noLink },
			func(db *Database) { db.AllocateAny(0, 0) }, []uintptr{ListHeadCorrupt, noLink, 4}},
		{"count without head", func(db *Database) { db.lists[nodeList(0, StateZeroed)].n = 1 },
			func(db *Database) { db.AllocateZeroed(0, 0) }, []uintptr{ListHeadCorrupt, noLink, 4}},
		{"bad frame at the head of the free list", func(db *Database) { db.entries[1].state = StateBad },
			func(db *Database) { db.AllocateAny(0, 0) }, []uintptr{ListStateMismatch, 1}},
		{"neighbour does not link back", func(db *Database) { db.entries[3].blink = 1 },
			func(db *Database) { db.MarkBad(3) }, []uintptr{ListEntryCorrupt, 3, highest, 0}},
		{"link beyond the database", func(db *Database) { db.entries[2].flink = 99 },
			func(db *Database) { db.MarkBad(2) }, []uintptr{ListEntryCorrupt, 2, highest, 0}},
		{"tail mismatch", func(db *Database) { db.lists[nodeList(0, StateFree)].last = 3 },
			func(db *Database) { db.MarkBad(4) }, []uintptr{ListEntryCorrupt, 4, highest, 0}},
		{"double insert", func(db *Database) {
			p, _ := db.AllocateAny(0, 0)
			db.entries[p].flink = 2
		}, func(db *Database) { db.Free(1, 0) }, []uintptr{ListEntryCorrupt, 1, highest, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, smallMap)
			tc.corrupt(f.db)
			if err := f.db.Check(); err == nil {
				t.Error("Check missed the corruption")
			}
			wantBugcheck(t, func() { tc.op(f.db) }, bugcheck.PfnListCorrupt, tc.params...)
			if f.db.lock.Held() {
				t.Fatal("lock still held after the bugcheck")
			}
		})
	}
}

// TestCheckFindsBrokenInvariants breaks each invariant and checks the whole
// message, so that none loses a frame number, state or count it names.
func TestCheckFindsBrokenInvariants(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(f *fixture)
		want    string
	}{
		{"unknown state", func(f *fixture) { f.db.entries[0].state = NumStates }, "pfn: frame 0x0: state State(9)"},
		{"count drift", func(f *fixture) { f.db.count[StateBad]++ }, "pfn: Bad: 0 frames, count says 1"},
		{"linked off the lists", func(f *fixture) { f.db.entries[f.alloc(true)].blink = 3 }, "pfn: frame 0x1 (Active): linked (0xffffffff, 0x3) while off the lists"},
		{"active without share", func(f *fixture) { f.db.entries[f.alloc(true)].shareCount = 0 }, "pfn: frame 0x1 (Active): ref 1 share 0: an active frame needs both"},
		{"transition still shared", func(f *fixture) {
			p := f.alloc(true)
			f.db.Reference(p)
			f.db.Unmap(p, false, false)
			f.db.entries[p].shareCount = 1
		}, "pfn: frame 0x1 (Transition): ref 1 share 1: a transition frame is locked and unmapped"},
		{"free frame referenced", func(f *fixture) { f.db.entries[1].refCount = 1 }, "pfn: frame 0x1 (Free): ref 1 share 0 off the active states"},
		{"standby without owner", func(f *fixture) {
			p := f.alloc(true)
			f.db.Unmap(p, false, false)
			f.db.entries[p].pte = 0
		}, "pfn: frame 0x1 (Standby): no owner PTE"},
		{"free frame owned", func(f *fixture) { f.db.entries[1].pte = 8 }, "pfn: frame 0x1 (Free): pte 0x8 original 0x0 flags 0x3: must be unowned and clear"},
		{"active frame not mappable", func(f *fixture) { f.db.entries[f.alloc(true)].setCache(NotMapped) }, "pfn: frame 0x1 (Active): cache attribute NotMapped on a mappable frame"},
		{"run flag off a run", func(f *fixture) { f.db.entries[f.alloc(true)].flags |= flagStartOfRun }, "pfn: frame 0x1 (Active): contiguous-run flags 0x41"},
		{"no-write but clean", func(f *fixture) { f.db.entries[f.alloc(true)].flags |= flagNoWrite }, "pfn: frame 0x1 (Active): no-write without modified"},
		{"modified on standby", func(f *fixture) {
			p := f.alloc(true)
			f.db.Unmap(p, false, false)
			f.db.entries[p].flags |= flagModified
		}, "pfn: frame 0x1 (Standby): flags 0x5 do not fit the list"},
		{"list cycle", func(f *fixture) { f.db.entries[4].flink = 1 }, "pfn: Free list: longer than its count 4"},
		{"list link beyond the database", func(f *fixture) { f.db.entries[4].flink = 99 }, "pfn: Free list: link to frame 0x63 beyond the database"},
		{"list skips a frame", func(f *fixture) { f.db.entries[1].flink = 3; f.db.entries[3].blink = 1 }, "pfn: Free list: 3 frames, count says 4"},
		{"wrong state on a list", func(f *fixture) {
			f.db.entries[2].state = StateZeroed
			f.db.count[StateFree]--
			f.db.count[StateZeroed]++
		}, "pfn: Free list: frame 0x2 is Zeroed"},
		{"frame of another state linked in", func(f *fixture) {
			f.db.entries[2].state = StateBad
			f.db.count[StateFree]--
			f.db.count[StateBad]++
		}, "pfn: Free list: frame 0x2 is Bad"},
		{"blink skips a frame", func(f *fixture) { f.db.entries[3].blink = 1 }, "pfn: Free list: frame 0x3: blink 0x1, previous frame 0x2"},
		{"list head's last is wrong", func(f *fixture) { f.db.lists[nodeList(0, StateFree)].last = 3 }, "pfn: Free list: last is 0x3, walk ended at 0x4"},
		{"zeroed frame dirty", func(f *fixture) {
			f.db.ZeroSome(1)
			f.fill(1, 5)
		}, "pfn: zeroed frame 0x1 holds 0x101010101010105 at offset 0x0"},
		{"zeroed list links beyond the database", func(f *fixture) {
			f.db.ZeroSome(2)
			f.db.entries[1].flink = 99
		}, "pfn: Zeroed list: link to frame 0x63 beyond the database\npfn: zeroed list links to frame 0x63"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, smallMap)
			tc.corrupt(f)
			err := errors.Join(f.db.Check(), f.db.CheckZeroed())
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %q, want %q", err, tc.want)
			}
		})
	}
}

func TestDecodeAndStats(t *testing.T) {
	f := newFixture(t, smallMap)
	p := f.alloc(true)
	f.db.Unmap(p, true, true)
	i := f.info(p)
	want := "PFN 00000001  ModifiedNoWrite  flink --------  blink --------  share 0  ref 0  pte fffff68000000008  original 0000000000000080  Cached  flags MW"
	if got := i.String(); got != want {
		t.Fatalf("!pfn:\n got %s\nwant %s", got, want)
	}
	if got := f.info(2).String(); !strings.Contains(got, "Free  flink 00000003  blink --------") || !strings.Contains(got, "NotMapped  flags -") {
		t.Fatalf("!pfn of a free frame: %s", got)
	}
	if _, ok := f.db.Decode(5); ok {
		t.Fatal("Decode beyond the database succeeded")
	}
	s := f.db.Stats().String()
	for _, line := range []string{
		"Free:                     3 (          12 kb)",
		"ModifiedNoWrite:          1 (           4 kb)",
		"Reserved:                 1 (           4 kb)",
		"Available:                3 (          12 kb)",
		"Total:                    5 (          20 kb)",
	} {
		if !strings.Contains(s, line) {
			t.Fatalf("!memusage lacks %q:\n%s", line, s)
		}
	}
	if State(42).String() != "State(42)" || StateTransition.String() != "Transition" {
		t.Fatal("State names")
	}
}

// TestTrapPathsDoNotAllocate checks the promise of the *_trap.go files on
// the host: no Go-heap allocation on the page-fault and idle paths.
func TestTrapPathsDoNotAllocate(t *testing.T) {
	f := newFixture(t, testMap)
	const pte = 0xFFFFF68000000100
	n := testing.AllocsPerRun(100, func() {
		p, _ := f.db.AllocateZeroed(pte, testOriginal)
		f.db.AddShare(p)
		f.db.Reference(p)
		f.db.Unmap(p, true, false)
		f.db.Unmap(p, false, false)
		f.db.Reclaim(p, pte)
		f.db.Dereference(p)
		f.db.Free(p, pte)
		q, _ := f.db.AllocateAny(0, 0)
		f.db.Free(q, 0)
		f.db.ZeroSome(2)
	})
	if n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
	f.check()
}

// TestConcurrentUse hammers the lock from several goroutines; run with
// -race it also shows that the lock orders every access to the entries.
func TestConcurrentUse(t *testing.T) {
	f := newFixture(t, testMap)
	const workers, rounds = 4, 2000
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			pte := testPte(uint64(w))
			for range rounds {
				if p, ok := f.db.AllocateZeroed(pte, 0); ok {
					f.db.Reference(p)
					f.db.Dereference(p)
					f.db.Free(p, pte)
				}
				f.db.ZeroSome(1)
			}
		}()
	}
	for range workers {
		<-done
	}
	if s := f.db.Stats(); s.Available() != testFree {
		t.Fatalf("frames lost:\n%v", s)
	}
	f.check()
}
