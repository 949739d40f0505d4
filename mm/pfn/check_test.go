package pfn

import (
	"strings"
	"testing"

	"ntgo/kernel/bugcheck"
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
		{"head without count", func(db *Database) { db.lists[StateFree].first = noLink },
			func(db *Database) { db.AllocateAny(0, 0) }, []uintptr{ListHeadCorrupt, noLink, 4}},
		{"count without head", func(db *Database) { db.count[StateZeroed] = 1 },
			func(db *Database) { db.AllocateZeroed(0, 0) }, []uintptr{ListHeadCorrupt, noLink, 5}},
		{"bad frame at the head of the free list", func(db *Database) { db.entries[1].state = StateBad },
			func(db *Database) { db.AllocateAny(0, 0) }, []uintptr{ListStateMismatch, 1}},
		{"neighbour does not link back", func(db *Database) { db.entries[3].blink = 1 },
			func(db *Database) { db.MarkBad(3) }, []uintptr{ListEntryCorrupt, 3, highest, 0}},
		{"link beyond the database", func(db *Database) { db.entries[2].flink = 99 },
			func(db *Database) { db.MarkBad(2) }, []uintptr{ListEntryCorrupt, 2, highest, 0}},
		{"tail mismatch", func(db *Database) { db.lists[StateFree].last = 3 },
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

func TestCheckFindsBrokenInvariants(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(f *fixture)
		want    string
	}{
		{"unknown state", func(f *fixture) { f.db.entries[0].state = NumStates }, "state State(9)"},
		{"count drift", func(f *fixture) { f.db.count[StateBad]++ }, "Bad: 0 frames, count says 1"},
		{"linked off the lists", func(f *fixture) { f.db.entries[f.alloc(true)].blink = 3 }, "linked"},
		{"active without share", func(f *fixture) { f.db.entries[f.alloc(true)].shareCount = 0 }, "active frame needs both"},
		{"transition still shared", func(f *fixture) {
			p := f.alloc(true)
			f.db.Reference(p)
			f.db.Unmap(p, false, false)
			f.db.entries[p].shareCount = 1
		}, "locked and unmapped"},
		{"free frame referenced", func(f *fixture) { f.db.entries[1].refCount = 1 }, "off the active states"},
		{"standby without owner", func(f *fixture) {
			p := f.alloc(true)
			f.db.Unmap(p, false, false)
			f.db.entries[p].pte = 0
		}, "no owner PTE"},
		{"free frame owned", func(f *fixture) { f.db.entries[1].pte = 8 }, "must be unowned"},
		{"active frame not mappable", func(f *fixture) { f.db.entries[f.alloc(true)].setCache(NotMapped) }, "NotMapped"},
		{"run flag off a run", func(f *fixture) { f.db.entries[f.alloc(true)].flags |= flagStartOfRun }, "contiguous-run"},
		{"no-write but clean", func(f *fixture) { f.db.entries[f.alloc(true)].flags |= flagNoWrite }, "no-write"},
		{"modified on standby", func(f *fixture) {
			p := f.alloc(true)
			f.db.Unmap(p, false, false)
			f.db.entries[p].flags |= flagModified
		}, "do not fit"},
		{"list cycle", func(f *fixture) { f.db.entries[4].flink = 1 }, "longer than its count"},
		{"list skips a frame", func(f *fixture) { f.db.entries[1].flink = 3; f.db.entries[3].blink = 1 }, "Free list: 3 frames"},
		{"wrong state on a list", func(f *fixture) {
			f.db.entries[2].state = StateZeroed
			f.db.count[StateFree]--
			f.db.count[StateZeroed]++
		}, "Zeroed list: 0 frames, count says 1"},
		{"zeroed frame dirty", func(f *fixture) {
			f.db.ZeroSome(1)
			f.fill(1, 5)
		}, "zeroed frame 0x1 holds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, smallMap)
			tc.corrupt(f)
			err := f.db.Check()
			if err == nil {
				err = f.db.CheckZeroed()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
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
