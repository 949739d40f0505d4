package verifier

import (
	"slices"
	"testing"

	"ntgo/mm/layout"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/mm/pte/ptesim"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// simPages backs special pool with the simulated MMU's tables and frames.
type simPages struct{ m *ptesim.Machine }

func (p *simPages) Map(va uintptr, _ bool) bool {
	f, ok := p.m.Frames.AllocZeroedPage(pte.PteAddress(va), 0)
	return ok && p.m.PT.Map(va, f, pte.ProtReadWrite, pte.Cached) == ntstatus.Success
}

func (p *simPages) Unmap(va uintptr) {
	if e, st := p.m.PT.Unmap(va, nil); st == ntstatus.Success && e.Valid() {
		p.m.Frames.FreePage(e.Frame(), pte.PteAddress(va))
	}
}

func (p *simPages) Page(va uintptr) *[physmem.PageSize]byte {
	e, _ := p.m.PT.Leaf(va)
	return p.m.Mem.Frame(e.Frame())
}

// mapped reports whether the simulated CPU can read va.
func (p *simPages) mapped(va uintptr) bool {
	_, _, ok := p.m.MMU.Translate(va, pte.AccessRead)
	return ok
}

// byteAt reads the simulated byte at va (mapped).
func (p *simPages) byteAt(va uintptr) byte { return p.Page(va &^ (pageSize - 1))[va&(pageSize-1)] }

func (p *simPages) setByte(va uintptr, b byte) { p.Page(va &^ (pageSize - 1))[va&(pageSize-1)] = b }

const testBudget = 8

// setup attaches the verifier to fresh pools with a simulated special pool.
func setup(t *testing.T) (*pool.System, *simPages) {
	t.Helper()
	m := ptesim.New(512)
	np, pg := pool.NewArena(64), pool.NewArena(64)
	t.Cleanup(func() { m.Close(); np.Close(); pg.Close() })
	s, err := pool.New(pool.Config{NonPaged: np, Paged: pg, MaxNonPagedBytes: 32 * pageSize, MaxPagedBytes: 32 * pageSize})
	if err != nil {
		t.Fatal(err)
	}
	sp := &simPages{m}
	pageState = [regionPages]uint8{}
	Init(s, sp, testBudget)
	t.Cleanup(func() { Apply(Settings{}); s.SetVerifier(nil) })
	return s, sp
}

func TestSpecialPoolOverrunLayout(t *testing.T) {
	s, sp := setup(t)
	for _, n := range []uintptr{1, 64, 100, 4096, 5000} {
		va := s.AllocateSpecial(pool.NonPagedPoolNx, n, pool.MakeTag("Test"), pool.NormalPoolPriority)
		if !state.special.owns(va) || va%blockAlign != 0 {
			t.Fatalf("n=%d: va %#x not a 16-aligned special-pool address", n, va)
		}
		end := (va + n + pageSize - 1) &^ (pageSize - 1)
		if end-(va+n) >= blockAlign {
			t.Errorf("n=%d: block %#x ends %d bytes before its guard page, want < 16", n, va, end-(va+n))
		}
		if sp.mapped(end) || pageState[pageOf(end)] != pageGuard {
			t.Errorf("n=%d: guard page %#x mapped or not marked (state %d)", n, end, pageState[pageOf(end)])
		}
		for a := va &^ (pageSize - 1); a < end; a += pageSize {
			if !sp.mapped(a) {
				t.Errorf("n=%d: data page %#x not mapped", n, a)
			}
		}
		for _, a := range []uintptr{va &^ (pageSize - 1), va - 1, va + n, end - 1} {
			if a >= va && a < va+n || a >= end || a < va&^(pageSize-1) {
				continue
			}
			if b := sp.byteAt(a); b != slackPattern {
				t.Errorf("n=%d: slack byte at %#x is %#x, want the pattern %#x", n, a, b, slackPattern)
			}
		}
		s.Free(va, 0)
		for a := va &^ (pageSize - 1); a < end; a += pageSize {
			if sp.mapped(a) || pageState[pageOf(a)] != pageFreed {
				t.Errorf("n=%d: freed page %#x still mapped or not marked freed", n, a)
			}
		}
	}
}

func TestSpecialPoolUnderrunLayout(t *testing.T) {
	s, sp := setup(t)
	va := s.AllocateSpecial(pool.PagedPool, 100, pool.MakeTag("Test"), pool.NormalPoolPrioritySpecialPoolUnderrun)
	if va&(pageSize-1) != 0 {
		t.Fatalf("underrun block %#x is not at its page's start", va)
	}
	if sp.mapped(va-pageSize) || pageState[pageOf(va-pageSize)] != pageGuard {
		t.Errorf("page before the underrun block is not an unmapped guard page")
	}
	if sp.byteAt(va+100) != slackPattern || sp.byteAt(va+pageSize-1) != slackPattern {
		t.Errorf("slack after the underrun block lacks the pattern")
	}
	s.Free(va, pool.MakeTag("Test"))
}

func TestSpecialPoolCacheAligned(t *testing.T) {
	s, _ := setup(t)
	va := s.AllocateSpecial(pool.NonPagedPoolCacheAligned, 100, pool.MakeTag("Test"), pool.NormalPoolPriority)
	if va%64 != 0 || (va+100+pageSize-1)&^(pageSize-1)-(va+100) >= 64 {
		t.Errorf("cache-aligned block at %#x: not 64-aligned against its guard page", va)
	}
	s.Free(va, 0)
}

func TestSpecialPoolZeroes(t *testing.T) {
	s, sp := setup(t)
	va := s.AllocateSpecial(pool.NonPagedPoolNx|pool.PoolZeroAllocation, 48, pool.MakeTag("Test"), pool.NormalPoolPriority)
	for a := va; a < va+48; a++ {
		if sp.byteAt(a) != 0 {
			t.Fatalf("zeroed block has %#x at %#x", sp.byteAt(a), a)
		}
	}
	s.Free(va, 0)
}

// stop runs f and returns its bugcheck, failing the test if there is none.
func stop(t *testing.T, f func()) *bugcheck.Record {
	t.Helper()
	r := bugcheck.Catch(f)
	if r == nil {
		t.Fatal("no bugcheck")
	}
	return r
}

func TestSpecialPoolFreeChecks(t *testing.T) {
	s, sp := setup(t)
	tag := pool.MakeTag("Test")
	alloc := func(n uintptr) uintptr {
		return s.AllocateSpecial(pool.NonPagedPoolNx, n, tag, pool.NormalPoolPriority)
	}
	for _, c := range []struct {
		name   string
		n      uintptr
		damage func(va uintptr) (free uintptr)
		params func(va uintptr) [4]uintptr
	}{
		{"after", 100, func(va uintptr) uintptr { sp.setByte(va+100, 0); return va },
			func(va uintptr) [4]uintptr { return [4]uintptr{va, va + 100, 0, slackAfter} }},
		{"before", 100, func(va uintptr) uintptr { sp.setByte(va-8, 0); return va },
			func(va uintptr) [4]uintptr { return [4]uintptr{va, va - 8, 0, slackBefore} }},
		{"bad address", 64, func(va uintptr) uintptr { return va + 16 },
			func(va uintptr) [4]uintptr { return [4]uintptr{va + 16, 64, 48, freeBadAddress} }},
		{"double free", 64, func(va uintptr) uintptr { s.Free(va, 0); return va },
			func(va uintptr) [4]uintptr { return [4]uintptr{va, 0, 0, freeNotAllocated} }},
	} {
		va := alloc(c.n)
		free := c.damage(va)
		r := stop(t, func() { s.Free(free, 0) })
		if r.Code != bugcheck.SpecialPoolDetectedMemoryCorruption || r.Params != c.params(va) {
			t.Errorf("%s: got %v, want 0xC1 %#x", c.name, r, c.params(va))
		}
	}
	va := alloc(32)
	if r := stop(t, func() { s.Free(va, pool.MakeTag("Oops")) }); r.Code != bugcheck.BadPoolCaller || r.Params[0] != pool.CallerTagMismatch {
		t.Errorf("wrong tag: got %v, want BAD_POOL_CALLER 0xA", r)
	}
}

func TestSpecialPoolIrql(t *testing.T) {
	s, _ := setup(t)
	tag := pool.MakeTag("Test")
	va := s.AllocateSpecial(pool.PagedPool, 32, tag, pool.NormalPoolPriority)
	old := ke.RaiseIrql(ke.DispatchLevel)
	freeAt := bugcheck.Catch(func() { s.Free(va, tag) })
	allocAt := bugcheck.Catch(func() { s.AllocateSpecial(pool.PagedPool, 48, tag, pool.NormalPoolPriority) })
	ke.LowerIrql(old)
	if freeAt == nil || freeAt.Code != bugcheck.SpecialPoolDetectedMemoryCorruption || freeAt.Params != [4]uintptr{2, uintptr(pool.PagedPool), va, freeIrql} {
		t.Errorf("paged special pool freed at DISPATCH_LEVEL: %v", freeAt)
	}
	if allocAt == nil || allocAt.Params != [4]uintptr{2, uintptr(pool.PagedPool), 48, allocIrql} {
		t.Errorf("paged special pool allocated at DISPATCH_LEVEL: %v", allocAt)
	}
	s.Free(va, tag)
}

func TestSpecialPoolBudgetFallsBack(t *testing.T) {
	s, _ := setup(t)
	var got []uintptr
	for range testBudget + 2 {
		got = append(got, s.AllocateSpecial(pool.NonPagedPoolNx, 64, pool.MakeTag("Test"), pool.NormalPoolPriority))
	}
	special := 0
	for _, va := range got {
		if state.special.owns(va) {
			special++
		}
	}
	if special != testBudget || counters.SpecialFallbacks.Load() < 2 {
		t.Errorf("%d special of %d with a budget of %d (fallbacks %d)", special, len(got), testBudget, counters.SpecialFallbacks.Load())
	}
	for _, va := range got {
		s.Free(va, 0)
	}
	if u, ok := s.PoolUsed(pool.MakeTag("Test")); ok && u.Bytes() != 0 {
		t.Errorf("tag still holds %d bytes after every free", u.Bytes())
	}
}

func TestQuarantineReleasesOldest(t *testing.T) {
	s, _ := setup(t)
	const quarantine = 16
	state.special.quarantine = quarantine
	first := s.AllocateSpecial(pool.NonPagedPoolNx, 64, pool.MakeTag("Test"), pool.NormalPoolPriority)
	s.Free(first, 0)
	if pageState[pageOf(first)] != pageFreed {
		t.Fatal("a freed page is not quarantined")
	}
	for i := 0; i < quarantine; i += 2 {
		s.Free(s.AllocateSpecial(pool.NonPagedPoolNx, 64, pool.MakeTag("Test"), pool.NormalPoolPriority), 0)
	}
	if pageState[pageOf(first)] != pageFree {
		t.Errorf("the first freed page is still quarantined after %d more pages were", quarantine)
	}
}

func TestFaultBugcheck(t *testing.T) {
	s, _ := setup(t)
	SetCode([]Span{{Lo: 0x1000, Hi: 0x2000, Package: "ntgo/drivers/d", Module: "d"}, {Lo: 0x2000, Hi: 0x3000, Package: "ntgo/kernel"}})
	t.Cleanup(func() { code.Store(nil) })
	va := s.AllocateSpecial(pool.NonPagedPoolNx, 64, pool.MakeTag("Test"), pool.NormalPoolPriority)
	end := (va + 64 + pageSize - 1) &^ (pageSize - 1)
	for _, c := range []struct {
		va, rip uintptr
		write   bool
		want    bugcheck.Code
	}{
		{end, 0x1800, true, bugcheck.DriverPageFaultBeyondEndOfAllocation},
		{end + 8, 0x2800, false, bugcheck.PageFaultBeyondEndOfAllocation},
	} {
		code, p, ok := FaultBugcheck(c.va, c.write, c.rip)
		access := uintptr(0)
		if c.write {
			access = 1
		}
		if !ok || code != c.want || p != [4]uintptr{c.va, access, c.rip, 0} {
			t.Errorf("fault at %#x from %#x: %v %v %#x, want %v", c.va, c.rip, ok, code, p, c.want)
		}
	}
	s.Free(va, 0)
	if code, _, _ := FaultBugcheck(va, false, 0x1800); code != bugcheck.DriverPageFaultInFreedSpecialPool {
		t.Errorf("driver's touch of freed special pool: %v", code)
	}
	if code, _, _ := FaultBugcheck(va, false, 0x2800); code != bugcheck.PageFaultInFreedSpecialPool {
		t.Errorf("kernel's touch of freed special pool: %v", code)
	}
	if _, _, ok := FaultBugcheck(layout.PagedPoolStart, false, 0x1800); ok {
		t.Error("a fault outside special pool is the verifier's")
	}
}

func TestInjectorReproducible(t *testing.T) {
	draw := func(seed uint64) []bool {
		var j injector
		j.reset(Settings{Seed: seed, Probability: 3000, Grace: 5})
		out := make([]bool, 200)
		for i := range out {
			out[i] = j.fail()
		}
		return out
	}
	a, b, c := draw(7), draw(7), draw(8)
	failures := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 7 drew differently at call %d", i)
		}
		if a[i] {
			failures++
			if i < 5 {
				t.Errorf("call %d failed inside the grace period", i)
			}
		}
	}
	if failures < 30 || failures > 90 {
		t.Errorf("%d failures of 200 at 30%%", failures)
	}
	if slices.Equal(a, c) {
		t.Error("seeds 7 and 8 drew the same failures")
	}
}

// The hooks leave unverified callers alone: with nothing attributed to a
// verified driver (no code table), pool calls go to the pool.
func TestUnattributedCallsPassThrough(t *testing.T) {
	s, _ := setup(t)
	code.Store(nil)
	if st := Apply(Settings{Flags: SpecialPool | PoolTracking, All: true}); st != ntstatus.Success {
		t.Fatal(st)
	}
	va := s.Allocate(pool.NonPagedPoolNx, 64, pool.MakeTag("Test"), pool.NormalPoolPriority, 0)
	if state.special.owns(va) || len(Outstanding("")) != 0 {
		t.Errorf("an unattributed allocation went to the verifier: %#x", va)
	}
	s.Free(va, 0)
}
