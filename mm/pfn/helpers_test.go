package pfn

import (
	"testing"

	"ntgo/mm/physmem"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

const page = physmem.PageSize

// testMap lays out 64 frames:
//
//	0        reserved (real-mode data)
//	1-15     free
//	16-19    hole
//	20-23    reserved (a partial last page rounds outward)
//	24-31    free
//	32-33    in use (a range straddling two frames)
//	34-63    free
//
// plus a reserved range far above RAM, which must cost no entries.
var testMap = []Range{
	{Base: 0, Length: page, Type: RangeReserved},
	{Base: page, Length: 15 * page, Type: RangeFree},
	{Base: 20 * page, Length: 4*page - 100, Type: RangeReserved},
	{Base: 24 * page, Length: 40 * page, Type: RangeFree},
	{Base: 32*page + 8, Length: page, Type: RangeInUse},
	{Base: 1 << 40, Length: page, Type: RangeReserved},
}

const (
	testFrames   = 64
	testFree     = 15 + 8 + 30 // 1-15, 24-31, 34-63
	testInUse    = 2
	testReserved = testFrames - testFree - testInUse
)

// restore is one TransitionHook call.
type restore struct {
	p    physmem.PFN
	pte  uintptr
	orig uint64
}

type fixture struct {
	t        testing.TB
	db       *Database
	sim      *physmem.Sim
	restored []restore
	ptes     uint64 // PTEs handed out by alloc
}

func newFixture(t testing.TB, m []Range) *fixture {
	t.Helper()
	n, _, st := Size(m)
	if st != ntstatus.Success || n == 0 {
		t.Fatalf("Size: %d frames, %v", n, st)
	}
	f := &fixture{t: t, db: new(Database), sim: physmem.NewSim(n)}
	t.Cleanup(f.sim.Close)
	if st := f.db.Init(make([]Entry, n), m, f.sim); st != ntstatus.Success {
		t.Fatalf("Init: %v", st)
	}
	f.db.SetTransitionHook(func(p physmem.PFN, pte uintptr, orig uint64) {
		f.restored = append(f.restored, restore{p, pte, orig})
	})
	f.check()
	return f
}

func (f *fixture) check() {
	f.t.Helper()
	if err := f.db.Check(); err != nil {
		f.t.Fatal(err)
	}
	if err := f.db.CheckZeroed(); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) info(p physmem.PFN) Info {
	f.t.Helper()
	i, ok := f.db.Decode(p)
	if !ok {
		f.t.Fatalf("frame %#x beyond the database", p)
	}
	return i
}

func (f *fixture) wantState(p physmem.PFN, s State) {
	f.t.Helper()
	if got := f.info(p).State; got != s {
		f.t.Fatalf("frame %#x is %v, want %v", p, got, s)
	}
}

func (f *fixture) count(s State) uint64 { return f.db.Stats().ByState[s] }

// fill writes a pattern derived from v over frame p, as a user of it would.
func (f *fixture) fill(p physmem.PFN, v uint64) {
	fr := f.sim.Frame(p)
	for i := range fr {
		fr[i] = byte(v>>(i%8*8)) | 1
	}
}

func (f *fixture) filled(p physmem.PFN, v uint64) bool {
	fr := f.sim.Frame(p)
	for i := range fr {
		if fr[i] != byte(v>>(i%8*8))|1 {
			return false
		}
	}
	return true
}

func (f *fixture) zero(p physmem.PFN) bool {
	for _, b := range f.sim.Frame(p) {
		if b != 0 {
			return false
		}
	}
	return true
}

// fillFreeList scribbles on every free frame, as if each had been used.
func (f *fixture) fillFreeList() {
	for p := physmem.PFN(0); p < f.db.Frames(); p++ {
		if f.info(p).State == StateFree {
			f.fill(p, uint64(p)*0x9E3779B97F4A7C15)
		}
	}
}

// alloc takes a frame (zeroed or any) owned by a PTE at a VA derived from
// its frame, and fails the test if none is available.
func (f *fixture) alloc(zeroed bool) physmem.PFN {
	f.t.Helper()
	var p physmem.PFN
	var ok bool
	f.ptes++
	if zeroed {
		p, ok = f.db.AllocateZeroed(testPte(f.ptes), testOriginal)
	} else {
		p, ok = f.db.AllocateAny(testPte(f.ptes), testOriginal)
	}
	if !ok {
		f.t.Fatal("allocation failed")
	}
	return p
}

// testPte is the n'th PTE address alloc hands out, in NT's PTE space.
func testPte(n uint64) uintptr { return 0xFFFFF68000000000 + uintptr(n)*8 }

// testOriginal is the PTE contents alloc records (a demand-zero software PTE).
const testOriginal = 0x80

// wantBugcheck runs op and fails unless it bugchecks with code and params.
func wantBugcheck(t testing.TB, op func(), code bugcheck.Code, params ...uintptr) {
	t.Helper()
	rec := bugcheck.Catch(op)
	if rec == nil {
		t.Fatalf("no bugcheck, want %v %#x", code, params)
	}
	var want [4]uintptr
	copy(want[:], params)
	if rec.Code != code || rec.Params != want {
		t.Fatalf("bugcheck %v %#x, want %v %#x", rec.Code, rec.Params, code, want)
	}
}
