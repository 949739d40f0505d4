package pool

import (
	"testing"

	"ntgo/nt/ntstatus"
)

// Allocate serves ExAllocatePool2's common flags itself, from the
// lookaside like any request, zeroed unless POOL_FLAG_UNINITIALIZED and
// raising with POOL_FLAG_RAISE_ON_FAILURE; every other set of flags goes,
// unchanged, to Config.AllocatePool2, and fails without one.
func TestAllocateDecodesPoolFlags(t *testing.T) {
	var gotFlags []uint64
	tp := newTestPool(t, poolOpts{pool2: func(f uint64, n uintptr, tag Tag) uintptr {
		gotFlags = append(gotFlags, f)
		return 0
	}})
	u := units(64)
	keep := tp.alloc(t, NonPagedPool, 64, tagTest) // the page stays
	va := tp.alloc(t, NonPagedPool, 64, tagTest)
	fill(va, 64)
	tp.Free(va, tagTest)
	if got := tp.Allocate(FromPoolFlags|PoolFlagNonPaged, 64, tagTest, NormalPoolPriority, 0); got != va || !allZero(va, 64) || hits(tp, KindNonPagedNx, u) != 1 {
		t.Fatalf("POOL_FLAG_NON_PAGED gave %#x (zeroed %v), want the cached %#x zeroed", got, allZero(va, 64), va)
	}
	fill(va, 64)
	tp.Free(va, tagTest)
	if got := tp.Allocate(FromPoolFlags|PoolFlagNonPaged|PoolFlagUninitialized, 64, tagTest, NormalPoolPriority, 0); got != va || allZero(va+SListEntrySize, 64-SListEntrySize) {
		t.Fatalf("POOL_FLAG_UNINITIALIZED gave %#x, zeroed %v", got, allZero(va+SListEntrySize, 64-SListEntrySize))
	}
	tp.Free(va, tagTest)
	for f, k := range map[uint64]Kind{PoolFlagPaged: KindPaged, PoolFlagNonPagedExecute: KindNonPagedExecute} {
		va := tp.Allocate(FromPoolFlags|PoolType(f), 64, tagTest, NormalPoolPriority, 0)
		if va == 0 || !tp.paged.holds(va) != (k != KindPaged) {
			t.Fatalf("flags %#x allocated %#x, not from the %v pool", f, va, k)
		}
		if b, _ := tp.BlockSize(va); b < 64 {
			t.Fatalf("flags %#x: block of %d bytes", f, b)
		}
		tp.Free(va, tagTest)
	}
	st := ntstatus.Success
	ntstatus.Try(func() {
		tp.Allocate(FromPoolFlags|PoolFlagPaged|PoolFlagRaiseOnFailure, 1<<40, tagTest, NormalPoolPriority, 0)
	}, func(e *ntstatus.Exception) { st = e.Status })
	if st != ntstatus.InsufficientResources {
		t.Fatalf("POOL_FLAG_RAISE_ON_FAILURE on a failure raised %v", st)
	}
	others := []uint64{
		PoolFlagNonPaged | 1<<32,         // POOL_FLAG_SPECIAL_POOL, optional
		PoolFlagPaged | 0x1,              // POOL_FLAG_USE_QUOTA
		PoolFlagNonPaged | 0x8,           // POOL_FLAG_CACHE_ALIGNED
		PoolFlagNonPaged | PoolFlagPaged, // two pools
		0,                                // none
		PoolFlagNonPaged | 1<<31,         // an unknown required flag
	}
	for _, f := range others {
		if tp.Allocate(FromPoolFlags|PoolType(f), 64, tagTest, NormalPoolPriority, 0) != 0 {
			t.Fatalf("flags %#x: allocated, not handed to Config.AllocatePool2", f)
		}
	}
	if len(gotFlags) != len(others) {
		t.Fatalf("Config.AllocatePool2 saw %#x, want %#x", gotFlags, others)
	}
	for i, f := range others {
		if gotFlags[i] != f {
			t.Fatalf("Config.AllocatePool2 saw %#x, want %#x", gotFlags, others)
		}
	}
	tp.Free(keep, tagTest)

	bare := newTestPool(t, poolOpts{})
	if va := bare.Allocate(FromPoolFlags|PoolFlagNonPaged|1<<32, 64, tagTest, NormalPoolPriority, 0); va != 0 {
		t.Fatalf("without Config.AllocatePool2, special-pool flags allocated %#x", va)
	}
	tp.idle(t)
}

// CommonFlagsType's table agrees with POOL_FLAGS' meaning for every
// combination of the low flags, alone and with optional ones.
func TestCommonFlagsType(t *testing.T) {
	pools := map[uint64]PoolType{PoolFlagNonPaged: NonPagedPoolNx, PoolFlagNonPagedExecute: NonPagedPoolExecute, PoolFlagPaged: PagedPool}
	for low := range uint64(1 << 12) {
		for _, high := range []uint64{0, 1 << 32, 1 << 62} {
			f := low | high
			want, wantOK := pools[f&poolKindFlags]
			wantOK = wantOK && f&^(PoolFlagUninitialized|PoolFlagRaiseOnFailure|poolKindFlags) == 0
			if f&PoolFlagUninitialized == 0 {
				want |= PoolZeroAllocation
			}
			if f&PoolFlagRaiseOnFailure != 0 {
				want |= PoolRaiseIfAllocationFailure
			}
			got, ok := CommonFlagsType(f)
			if ok != wantOK || ok && got != want {
				t.Fatalf("CommonFlagsType(%#x) = %#x, %v; want %#x, %v", f, got, ok, want, wantOK)
			}
		}
	}
}
