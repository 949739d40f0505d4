package pool

import "testing"

func TestPoolTypeValues(t *testing.T) {
	for _, c := range []struct {
		name string
		got  PoolType
		want uint32
	}{
		{"NonPagedPoolExecute", NonPagedPoolExecute, 0},
		{"PagedPool", PagedPool, 1},
		{"NonPagedPoolMustSucceed", NonPagedPoolMustSucceed, 2},
		{"DontUseThisType", DontUseThisType, 3},
		{"NonPagedPoolCacheAligned", NonPagedPoolCacheAligned, 4},
		{"PagedPoolCacheAligned", PagedPoolCacheAligned, 5},
		{"NonPagedPoolCacheAlignedMustS", NonPagedPoolCacheAlignedMustS, 6},
		{"NonPagedPoolSession", NonPagedPoolSession, 32},
		{"PagedPoolSession", PagedPoolSession, 33},
		{"NonPagedPoolMustSucceedSession", NonPagedPoolMustSucceedSession, 34},
		{"DontUseThisTypeSession", DontUseThisTypeSession, 35},
		{"NonPagedPoolCacheAlignedSession", NonPagedPoolCacheAlignedSession, 36},
		{"PagedPoolCacheAlignedSession", PagedPoolCacheAlignedSession, 37},
		{"NonPagedPoolCacheAlignedMustSSession", NonPagedPoolCacheAlignedMustSSession, 38},
		{"NonPagedPoolNx", NonPagedPoolNx, 512},
		{"NonPagedPoolNxCacheAligned", NonPagedPoolNxCacheAligned, 516},
		{"NonPagedPoolSessionNx", NonPagedPoolSessionNx, 544},
		{"NonPagedPool (NX opt-in)", NonPagedPool, 512},
		{"POOL_QUOTA_FAIL_INSTEAD_OF_RAISE", PoolQuotaFailInsteadOfRaise, 8},
		{"POOL_RAISE_IF_ALLOCATION_FAILURE", PoolRaiseIfAllocationFailure, 16},
		{"POOL_COLD_ALLOCATION", PoolColdAllocation, 256},
		{"POOL_NX_ALLOCATION", PoolNxAllocation, 512},
		{"POOL_ZERO_ALLOCATION", PoolZeroAllocation, 1024},
	} {
		if uint32(c.got) != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	for _, c := range []struct {
		pt   PoolType
		kind Kind
	}{
		{NonPagedPool, KindNonPagedNx}, {NonPagedPoolNxCacheAligned, KindNonPagedNx},
		{NonPagedPoolExecute, KindNonPagedExecute}, {NonPagedPoolCacheAligned, KindNonPagedExecute},
		{PagedPool, KindPaged}, {PagedPoolCacheAligned, KindPaged},
	} {
		if got := KindOf(c.pt); got != c.kind {
			t.Errorf("KindOf(%#x) = %v, want %v", c.pt, got, c.kind)
		}
	}
}

func TestPriorities(t *testing.T) {
	for p, want := range map[Priority]bool{
		LowPoolPriority: true, LowPoolPrioritySpecialPoolOverrun: true, LowPoolPrioritySpecialPoolUnderrun: true,
		NormalPoolPriority: true, NormalPoolPrioritySpecialPoolOverrun: true, NormalPoolPrioritySpecialPoolUnderrun: true,
		HighPoolPriority: true, HighPoolPrioritySpecialPoolOverrun: true, HighPoolPrioritySpecialPoolUnderrun: true,
		1: false, 17: false, 33: false, 48: false, 64: false,
	} {
		if p.Valid() != want {
			t.Errorf("Priority(%d).Valid() = %v", p, !want)
		}
	}
	if HighPoolPrioritySpecialPoolUnderrun.Base() != HighPoolPriority || NormalPoolPrioritySpecialPoolOverrun.Base() != NormalPoolPriority {
		t.Error("Base does not strip the special-pool bits")
	}
}

func TestTags(t *testing.T) {
	if MakeTag("None") != TagNone || TagNone != 0x656E6F4E {
		t.Errorf("MakeTag(None) = %#x, TagNone = %#x, want 0x656E6F4E ('enoN' in C)", MakeTag("None"), TagNone)
	}
	if MakeTag("Ovfl") != TagOverflow {
		t.Errorf("TagOverflow = %#x, want %#x", TagOverflow, MakeTag("Ovfl"))
	}
	if got := MakeTag("Ab").String(); got != "Ab  " {
		t.Errorf("short tag %q", got)
	}
	if got := MakeTag("TooLong").String(); got != "TooL" {
		t.Errorf("long tag %q", got)
	}
	if got := Tag(0x00410042).String(); got != "B.A." {
		t.Errorf("unprintable tag %q", got)
	}
}
