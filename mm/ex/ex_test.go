package ex

import (
	"testing"
	"unsafe"

	"ntgo/mm/pool"
	"ntgo/mm/securepool/simpages"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

const testPages = 256

var tagEx = pool.MakeTag("ExTs")

// env is the system pools over host arenas, with a settable IRQL and
// quota owner.
type env struct {
	pools  *pool.System
	np, pg *pool.Arena
	irql   uint8
	owner  *QuotaBlock
	secure *simpages.Pages
}

func setup(t testing.TB) *env {
	t.Helper()
	e := &env{np: pool.NewArena(2 * testPages), pg: pool.NewArena(2 * testPages), secure: simpages.NewMachine(testPages)}
	t.Cleanup(func() { e.np.Close(); e.pg.Close(); e.secure.Close() })
	p, err := Init(Config{
		Pool: pool.Config{
			NonPaged: e.np, Paged: e.pg,
			MaxNonPagedBytes: testPages * 4096, MaxPagedBytes: testPages * 4096,
			IRQL: func() uint8 { return e.irql },
		},
		QuotaOwner: func() *QuotaBlock { return e.owner },
		Secure:     e.secure,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.pools = p
	return e
}

func bytes(p unsafe.Pointer, n uintptr) []byte { return unsafe.Slice((*byte)(p), n) }

func zeroed(p unsafe.Pointer, n uintptr) bool {
	for _, c := range bytes(p, n) {
		if c != 0 {
			return false
		}
	}
	return true
}

// raised runs f and returns the status it raised, or Success.
func raised(f func()) ntstatus.Status {
	st := ntstatus.Success
	ntstatus.Try(f, func(e *ntstatus.Exception) { st = e.Status })
	return st
}

func TestAllocatePoolTagNone(t *testing.T) {
	e := setup(t)
	p := AllocatePool(pool.NonPagedPool, 40)
	if p == nil {
		t.Fatal("ExAllocatePool failed")
	}
	if st, ok := e.pools.PoolUsed(pool.TagNone); !ok || st.Outstanding() != 1 {
		t.Fatalf("tag None: %+v", st)
	}
	FreePoolWithTag(p, pool.TagNone)
	q := AllocatePoolWithQuota(pool.PagedPool, 40)
	if st, _ := e.pools.PoolUsed(pool.TagNone); st.Kinds[pool.KindPaged].Allocs != 1 {
		t.Fatalf("ExAllocatePoolWithQuota tag: %+v", st)
	}
	FreePool(q)
}

// WithTag and Uninitialized leave old contents; Zero clears them. The
// lookaside list hands the same block back, so the old contents are known.
func TestZeroing(t *testing.T) {
	setup(t)
	for _, c := range []struct {
		name  string
		alloc func() unsafe.Pointer
		zero  bool
	}{
		{"WithTag", func() unsafe.Pointer { return AllocatePoolWithTag(pool.NonPagedPool, 100, tagEx) }, false},
		{"Uninitialized", func() unsafe.Pointer { return AllocatePoolUninitialized(pool.NonPagedPool, 100, tagEx) }, false},
		{"Zero", func() unsafe.Pointer { return AllocatePoolZero(pool.NonPagedPool, 100, tagEx) }, true},
		{"WithTag|POOL_ZERO_ALLOCATION", func() unsafe.Pointer {
			return AllocatePoolWithTag(pool.NonPagedPool|pool.PoolZeroAllocation, 100, tagEx)
		}, true},
		{"Pool2", func() unsafe.Pointer { return AllocatePool2(PoolFlagNonPaged, 100, tagEx) }, true},
		{"Pool2 UNINITIALIZED", func() unsafe.Pointer { return AllocatePool2(PoolFlagNonPaged|PoolFlagUninitialized, 100, tagEx) }, false},
	} {
		old := AllocatePoolWithTag(pool.NonPagedPool, 100, tagEx)
		for i := range bytes(old, 100) {
			bytes(old, 100)[i] = 0xA5
		}
		FreePool(old)
		p := c.alloc()
		if p != old {
			t.Fatalf("%s: block not reused (lookaside)", c.name)
		}
		// The first 16 bytes held the lookaside link; look past them.
		if got := zeroed(unsafe.Add(p, 16), 84); got != c.zero {
			t.Errorf("%s: zeroed = %v, want %v", c.name, got, c.zero)
		}
		FreePool(p)
	}
}

func TestRaiseOnFailure(t *testing.T) {
	setup(t)
	huge := uintptr(testPages+1) * 4096
	if AllocatePoolWithTag(pool.NonPagedPool, huge, tagEx) != nil {
		t.Fatal("allocation past the maximum succeeded")
	}
	if st := raised(func() { AllocatePoolWithTag(pool.NonPagedPool|pool.PoolRaiseIfAllocationFailure, huge, tagEx) }); st != ntstatus.InsufficientResources {
		t.Fatalf("raise-on-failure raised %v", st)
	}
	// The raise bit on a successful allocation is harmless.
	p := AllocatePoolWithTag(pool.PagedPool|pool.PoolRaiseIfAllocationFailure, 10, tagEx)
	if p == nil {
		t.Fatal("allocation with the raise bit failed")
	}
	FreePool(p)
}

func TestPriority(t *testing.T) {
	setup(t)
	var held []unsafe.Pointer
	for range testPages * 80 / 100 { // the low-priority ceiling
		held = append(held, AllocatePoolWithTagPriority(pool.PagedPool, 4096, tagEx, pool.HighPoolPriority))
	}
	if AllocatePoolWithTagPriority(pool.PagedPool, 4096, tagEx, pool.LowPoolPriority) != nil {
		t.Fatal("low priority allocated under pressure")
	}
	p := AllocatePoolWithTagPriority(pool.PagedPool, 4096, tagEx, pool.NormalPoolPriority)
	if p == nil {
		t.Fatal("normal priority refused before its ceiling")
	}
	held = append(held, p)
	for _, p := range held {
		if p == nil {
			t.Fatal("high-priority setup allocation failed")
		}
		FreePool(p)
	}
}

func TestQuota(t *testing.T) {
	e := setup(t)
	e.owner = NewQuotaBlock(1000, 300)
	p := AllocatePoolWithQuotaTag(pool.PagedPool, 100, tagEx) // 128 bytes
	if np, pg := e.owner.Usage(); np != 0 || pg != 128 {
		t.Fatalf("usage %d/%d after a 128-byte paged charge", np, pg)
	}
	if n, q := QueryPoolBlockSize(p); n != 112 || !q {
		t.Fatalf("ExQueryPoolBlockSize = %d, %v", n, q)
	}
	// Paged quota: 300 - 128 left; 200 bytes (224 charged) exceeds it.
	if st := raised(func() { AllocatePoolWithQuotaTag(pool.PagedPool, 200, tagEx) }); st != ntstatus.QuotaExceeded {
		t.Fatalf("over quota raised %v", st)
	}
	if AllocatePoolWithQuotaTag(pool.PagedPool|pool.PoolQuotaFailInsteadOfRaise, 200, tagEx) != nil {
		t.Fatal("over quota with POOL_QUOTA_FAIL_INSTEAD_OF_RAISE allocated")
	}
	// Nonpaged quota is separate.
	big := AllocatePoolWithQuotaTag(pool.NonPagedPool, 900, tagEx) // 58 units: 928 bytes
	if np, pg := e.owner.Usage(); np != 928 || pg != 128 {
		t.Fatalf("usage %d/%d", np, pg)
	}
	FreePool(p)
	FreePoolWithTag(big, tagEx)
	if np, pg := e.owner.Usage(); np != 0 || pg != 0 {
		t.Fatalf("usage %d/%d after freeing", np, pg)
	}
	// Big allocations are charged whole pages.
	e.owner = NewQuotaBlock(NoQuotaLimit, NoQuotaLimit)
	b := AllocatePool2(PoolFlagPaged|PoolFlagUseQuota, 5000, tagEx)
	if _, pg := e.owner.Usage(); pg != 2*4096 {
		t.Fatalf("big charge %d", pg)
	}
	if n, q := QueryPoolBlockSize(b); n != 2*4096 || !q {
		t.Fatalf("big ExQueryPoolBlockSize = %d, %v", n, q)
	}
	FreePool(b)
	// Pool exhaustion gives the charge back and raises
	// STATUS_INSUFFICIENT_RESOURCES.
	if st := raised(func() { AllocatePoolWithQuotaTag(pool.NonPagedPool, (testPages+1)*4096, tagEx) }); st != ntstatus.InsufficientResources {
		t.Fatalf("exhausted pool raised %v", st)
	}
	if np, pg := e.owner.Usage(); np != 0 || pg != 0 {
		t.Fatalf("usage %d/%d after a failed allocation", np, pg)
	}
	// The system (no owner) is not charged.
	e.owner = nil
	s := AllocatePoolWithQuotaTag(pool.NonPagedPool, 100, tagEx)
	if _, q := QueryPoolBlockSize(s); q {
		t.Fatal("system allocation charged")
	}
	FreePool(s)
}

// A damaged quota owner in a header is BAD_POOL_CALLER 0xD.
func TestBadQuotaOwner(t *testing.T) {
	e := setup(t)
	e.owner = NewQuotaBlock(NoQuotaLimit, NoQuotaLimit)
	p := AllocatePoolWithQuotaTag(pool.NonPagedPool, 100, tagEx)
	check := (*uint64)(unsafe.Add(p, -8)) // the header's sealed owner
	const flip = 0x1000
	*check ^= flip
	rec := bugcheck.Catch(func() { FreePool(p) })
	want := [4]uintptr{pool.CallerBadQuotaOwner, uintptr(p), uintptr(tagEx), e.owner.owner() ^ flip}
	if rec == nil || rec.Code != bugcheck.BadPoolCaller || rec.Params != want {
		t.Fatalf("bugcheck %+v, want BAD_POOL_CALLER %#x", rec, want)
	}
}

func TestFreeChecks(t *testing.T) {
	e := setup(t)
	p := AllocatePoolWithTag(pool.PagedPool, 10, tagEx)
	wrong := pool.MakeTag("Nope")
	rec := bugcheck.Catch(func() { FreePoolWithTag(p, wrong) })
	if rec == nil || rec.Params != [4]uintptr{pool.CallerTagMismatch, uintptr(p), uintptr(tagEx), uintptr(wrong)} {
		t.Fatalf("tag mismatch: %+v", rec)
	}
	e = setup(t)
	p = AllocatePoolWithTag(pool.PagedPool, 10, tagEx)
	e.irql = pool.DispatchLevel
	rec = bugcheck.Catch(func() { FreePool(p) })
	if rec == nil || rec.Params != [4]uintptr{pool.CallerFreeIRQL, pool.DispatchLevel, uintptr(pool.PagedPool), uintptr(p)} {
		t.Fatalf("free at DISPATCH_LEVEL: %+v", rec)
	}
	rec = bugcheck.Catch(func() { AllocatePool2(PoolFlagPaged, 10, tagEx) })
	if rec == nil || rec.Params != [4]uintptr{pool.CallerAllocIRQL, pool.DispatchLevel, uintptr(pool.PagedPool | pool.PoolZeroAllocation), 10} {
		t.Fatalf("allocation at DISPATCH_LEVEL: %+v", rec)
	}
}
