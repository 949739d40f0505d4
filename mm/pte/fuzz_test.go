package pte_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/pte/ptesim"
	"ntgo/nt/ntstatus"
)

// Fuzzed addresses fall in a few regions, each 1024 pages, placed to share
// and to straddle tables: one crosses a 1 GiB (PDPT entry) boundary, one
// sits at the top of the lower half.
var fuzzRegions = [...]uintptr{
	0xFFFFF980_00000000,
	0xFFFFF880_3FF00000,
	0x00007FFF_FF000000,
	0xFFFF8000_00000000,
}

const fuzzRegionPages = 1024

// fuzzMaxOps bounds one input's length: every step re-checks the whole
// hierarchy, so a long input would cost quadratic time for nothing new.
const fuzzMaxOps = 300

var fuzzProtections = [...]pte.Protection{
	pte.ProtReadOnly, pte.ProtExecuteRead, pte.ProtReadWrite, pte.ProtExecuteReadWrite,
	pte.ProtNoAccess, pte.ProtReadWrite | pte.ProtGuard, pte.ProtExecuteRead | pte.ProtGuard, 0x2,
}

// leaf is the shadow's model of one leaf: what it should decode to.
type leaf struct {
	kind  pte.Kind
	frame physmem.PFN
	prot  pte.Protection
	cache pte.CacheType
}

func decode(e pte.PTE) leaf {
	l := leaf{kind: e.Kind(), prot: e.Protection()}
	if l.kind == pte.KindValid || l.kind == pte.KindTransition {
		l.frame, l.cache = e.Frame(), e.Cache()
	}
	return l
}

// ptFuzz drives one walker against a shadow map.
type ptFuzz struct {
	m       *ptesim.Machine
	pt      *pte.PageTables
	shadow  map[uintptr]leaf
	batch   pte.FlushBatch
	pending map[uintptr]bool // changed pages whose flush is still in the batch
}

func (f *ptFuzz) step(op, region byte, page uint16, arg byte) error {
	va := fuzzRegions[int(region)%len(fuzzRegions)] + uintptr(page%fuzzRegionPages)<<physmem.PageShift
	prot := fuzzProtections[arg%8]
	cache := pte.CacheType(arg >> 3 % 3)
	want := f.shadow[va]
	switch op % 8 {
	case 0: // map
		frame := physmem.PFN(0x10000 + uint64(page)*7 + uint64(arg))
		st := f.pt.Map(va, frame, prot, cache)
		switch {
		case !prot.Mappable():
			if st != ntstatus.InvalidPageProtection {
				return fmt.Errorf("map %#x %v: %v", va, prot, st)
			}
		case want.kind == pte.KindValid:
			if st != ntstatus.ConflictingAddresses {
				return fmt.Errorf("map over valid %#x: %v", va, st)
			}
		case st == ntstatus.InsufficientResources && f.m.Frames.Limit > 0:
		case st != ntstatus.Success:
			return fmt.Errorf("map %#x: %v", va, st)
		default:
			f.shadow[va] = leaf{pte.KindValid, frame, prot, cache}
		}
	case 1, 2: // unmap, now or batched
		var b *pte.FlushBatch
		if op%8 == 2 {
			b = &f.batch
			if want.kind == pte.KindValid {
				f.pending[va] = true
			}
		}
		old, st := f.pt.Unmap(va, b)
		if st != ntstatus.Success || decode(old) != want {
			return fmt.Errorf("unmap %#x: %v %v, shadow %+v", va, old, st, want)
		}
		delete(f.shadow, va)
	case 3: // protect
		st := f.pt.Protect(va, prot, nil)
		switch {
		case !prot.Valid():
			if st != ntstatus.InvalidPageProtection {
				return fmt.Errorf("protect %#x %v: %v", va, prot, st)
			}
		case want.kind == pte.KindFree || want.kind == pte.KindReserved:
			if st != ntstatus.NotCommitted && st != ntstatus.MemoryNotAllocated {
				return fmt.Errorf("protect uncommitted %#x: %v", va, st)
			}
		case st != ntstatus.Success:
			return fmt.Errorf("protect %#x: %v", va, st)
		case want.kind == pte.KindValid && !prot.Mappable():
			f.shadow[va] = leaf{pte.KindTransition, want.frame, prot, want.cache}
		default:
			want.prot = prot
			f.shadow[va] = want
		}
	case 4: // software PTE
		e, w := pte.DemandZero(prot), leaf{kind: pte.KindDemandZero, prot: prot}
		if !prot.Valid() {
			e, w = pte.Reserved, leaf{kind: pte.KindReserved}
		}
		old, st := f.pt.Swap(va, e, nil)
		switch {
		case st == ntstatus.InsufficientResources && f.m.Frames.Limit > 0:
		case st != ntstatus.Success || decode(old) != want:
			return fmt.Errorf("swap %#x: %v %v, shadow %+v", va, old, st, want)
		default:
			f.shadow[va] = w
		}
	case 5: // frame pressure: allow only a few more tables, or lift the limit
		f.m.Frames.Limit = 0
		if arg%2 == 0 {
			f.m.Frames.Limit = f.m.Frames.Count(ptesim.Table) + int(arg%4)
		}
	case 6:
		f.pt.Flush(&f.batch)
		clear(f.pending)
	}
	if f.pending[va] {
		return nil
	}
	return f.checkPage(va)
}

// checkPage compares va's leaf, its self-map view and the MMU with the shadow.
func (f *ptFuzz) checkPage(va uintptr) error {
	want := f.shadow[va]
	e, st := f.pt.Leaf(va)
	if decode(e) != want {
		return fmt.Errorf("%#x: leaf %v (%v), shadow %+v", va, e, st, want)
	}
	if st == ntstatus.Success {
		// The self-map address holds the same entry, as the MMU sees it.
		if v, code, ok := f.m.MMU.Read64(pte.PteAddress(va)); !ok || pte.PTE(v) != e {
			return fmt.Errorf("%#x: PTE at %#x reads %#x (%v), walker %v", va, pte.PteAddress(va), v, code, e)
		}
	}
	for a := pte.AccessRead; a <= pte.AccessExecute; a++ {
		pa, code, ok := f.m.MMU.Translate(va+8, a)
		allowed := want.kind == pte.KindValid && want.prot.Allows(a)
		if ok != allowed || (ok && pa != want.frame.Addr()+8) {
			return fmt.Errorf("%v %#x: pa %#x code %v ok %v, shadow %+v", a, va, pa, code, ok, want)
		}
		if !ok && code.Present() != (want.kind == pte.KindValid) {
			return fmt.Errorf("%v %#x: fault %v on %+v", a, va, code, want)
		}
	}
	if pa, ok := f.pt.Translate(va); ok != (want.kind == pte.KindValid) || (ok && pa != want.frame.Addr()) {
		return fmt.Errorf("Translate %#x = %#x %v, shadow %+v", va, pa, ok, want)
	}
	return nil
}

// checkAll verifies the whole hierarchy against the shadow.
func (f *ptFuzz) checkAll() error {
	seen := 0
	var bad error
	err := f.m.Check(func(va uintptr, e pte.PTE) {
		seen++
		if w := f.shadow[va]; decode(e) != w && bad == nil {
			bad = fmt.Errorf("leaf %#x is %v, shadow %+v", va, e, w)
		}
	})
	switch {
	case err != nil:
		return err
	case bad != nil:
		return bad
	case seen != len(f.shadow):
		return fmt.Errorf("%d non-zero leaves, shadow has %d", seen, len(f.shadow))
	}
	return nil
}

func runPageTables(t *testing.T, ops []byte) {
	m := ptesim.New(256)
	defer m.Close()
	f := &ptFuzz{m: m, pt: m.PT, shadow: map[uintptr]leaf{}, pending: map[uintptr]bool{}}
	for i := 0; i+5 <= len(ops) && i < 5*fuzzMaxOps; i += 5 {
		page := uint16(ops[i+2]) | uint16(ops[i+3])<<8
		if err := f.step(ops[i], ops[i+1], page, ops[i+4]); err != nil {
			t.Fatalf("op %d: %v", i/5, err)
		}
		if err := f.checkAll(); err != nil {
			t.Fatalf("op %d (%d): %v", i/5, ops[i]%8, err)
		}
	}
	f.pt.Flush(&f.batch)
	clear(f.pending)
	for va := range f.shadow {
		if err := f.checkPage(va); err != nil {
			t.Fatal(err)
		}
	}
	// Clearing everything must give back every table but the PML4.
	for va := range f.shadow {
		f.pt.Unmap(va, nil)
	}
	if n := m.Frames.Count(ptesim.Table); n != 1 {
		t.Fatalf("%d table frames after unmapping everything", n)
	}
}

func FuzzPageTables(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 2, 0, 0, 2, 0, 4, 3, 0, 1, 0, 4, 1, 0, 1, 0, 0})
	f.Add([]byte{0, 1, 0xFF, 0, 2, 0, 1, 0, 1, 2, 4, 1, 0xFF, 0, 2, 2, 1, 0xFF, 0, 0, 6, 0, 0, 0, 0})
	f.Add([]byte{5, 0, 0, 0, 2, 0, 3, 0, 0, 2, 4, 2, 5, 0, 0, 5, 0, 0, 0, 1, 0, 3, 0, 0, 2})
	f.Fuzz(func(t *testing.T, ops []byte) { runPageTables(t, ops) })
}

// TestPageTablesRandom runs the fuzz body over long pseudo-random sequences,
// so a plain `go test` covers more than the seed corpus.
func TestPageTablesRandom(t *testing.T) {
	for seed := range uint64(30) {
		r := rand.New(rand.NewPCG(seed, 99))
		ops := make([]byte, 5*fuzzMaxOps)
		for i := range ops {
			ops[i] = byte(r.Uint32())
		}
		// Few distinct pages, so operations meet each other.
		for i := 2; i < len(ops); i += 5 {
			ops[i] %= 40
			ops[i+1] = byte(r.IntN(2)) * 3 // page 0..39 or 768..807: crosses the 1 GiB line in region 1
		}
		runPageTables(t, ops)
	}
}
