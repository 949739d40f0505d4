// Pool types, priorities, tags and IRQLs as NT numbers them.
//
// POOL_TYPE is a small enumeration with modifier bits on top:
//
//	bit 0    base type: 0 nonpaged, 1 paged           (BASE_POOL_TYPE_MASK)
//	bit 1    must succeed (no longer honoured)         (NonPagedPoolMustSucceed)
//	bit 2    cache aligned                             (NonPagedPoolCacheAligned)
//	bit 3    quota: fail instead of raising            (POOL_QUOTA_FAIL_INSTEAD_OF_RAISE)
//	bit 4    raise on failure                          (POOL_RAISE_IF_ALLOCATION_FAILURE)
//	bit 5    session pool                              (NonPagedPoolSession)
//	bit 8    cold allocation hint                      (POOL_COLD_ALLOCATION)
//	bit 9    no-execute                                (POOL_NX_ALLOCATION)
//	bit 10   zero the allocation                       (POOL_ZERO_ALLOCATION)
//
// NT's enumerator NonPagedPool is 0, which is executable pool. Drivers built
// with POOL_NX_OPTIN_AUTO get NonPagedPool redefined as NonPagedPoolNx; ntgo
// drivers are always built that way, so the Go name NonPagedPool is the NX
// value 0x200 and the executable pool must be asked for by name
// (NonPagedPoolExecute, the value 0).
//
// The three base types map onto three pool descriptors (Kind): nonpaged NX,
// nonpaged executable and paged.

package pool

import "strings"

// PoolType is NT's POOL_TYPE, or with FromPoolFlags an ExAllocatePool2
// call's POOL_FLAGS (poolflags.go).
type PoolType uint64

// Modifier bits of a PoolType.
const (
	BasePoolTypeMask             PoolType = 1 << 0
	MustSucceedPoolTypeMask      PoolType = 1 << 1
	CacheAlignedPoolTypeMask     PoolType = 1 << 2
	PoolQuotaFailInsteadOfRaise  PoolType = 1 << 3
	PoolRaiseIfAllocationFailure PoolType = 1 << 4
	SessionPoolMask              PoolType = 1 << 5
	PoolColdAllocation           PoolType = 1 << 8
	PoolNxAllocation             PoolType = 1 << 9
	PoolZeroAllocation           PoolType = 1 << 10
)

// NT's POOL_TYPE enumerators.
const (
	NonPagedPoolExecute                  PoolType = 0
	PagedPool                            PoolType = BasePoolTypeMask
	NonPagedPoolMustSucceed              PoolType = MustSucceedPoolTypeMask
	DontUseThisType                      PoolType = BasePoolTypeMask | MustSucceedPoolTypeMask
	NonPagedPoolCacheAligned             PoolType = CacheAlignedPoolTypeMask
	PagedPoolCacheAligned                PoolType = CacheAlignedPoolTypeMask | BasePoolTypeMask
	NonPagedPoolCacheAlignedMustS        PoolType = CacheAlignedPoolTypeMask | MustSucceedPoolTypeMask
	NonPagedPoolSession                  PoolType = SessionPoolMask
	PagedPoolSession                     PoolType = SessionPoolMask | PagedPool
	NonPagedPoolNx                       PoolType = PoolNxAllocation
	NonPagedPoolNxCacheAligned           PoolType = PoolNxAllocation | CacheAlignedPoolTypeMask
	NonPagedPoolSessionNx                PoolType = PoolNxAllocation | SessionPoolMask
	NonPagedPool                         PoolType = NonPagedPoolNx // POOL_NX_OPTIN_AUTO
	NonPagedPoolMustSucceedSession       PoolType = NonPagedPoolMustSucceed | SessionPoolMask
	DontUseThisTypeSession               PoolType = DontUseThisType | SessionPoolMask
	NonPagedPoolCacheAlignedSession      PoolType = NonPagedPoolCacheAligned | SessionPoolMask
	PagedPoolCacheAlignedSession         PoolType = PagedPoolCacheAligned | SessionPoolMask
	NonPagedPoolCacheAlignedMustSSession PoolType = NonPagedPoolCacheAlignedMustS | SessionPoolMask
)

// coreTypeBits are the PoolType bits the allocator core acts on, the raise
// bit included (Allocate raises on failure, as ExAllocatePoolWithTag
// does). The quota-fail bit is a calling convention of mm/ex's quota
// routines, which strip it.
const coreTypeBits = BasePoolTypeMask | MustSucceedPoolTypeMask | CacheAlignedPoolTypeMask |
	PoolRaiseIfAllocationFailure | SessionPoolMask | PoolColdAllocation | PoolNxAllocation | PoolZeroAllocation

// Kind names a pool descriptor.
type Kind uint8

const (
	KindNonPagedNx Kind = iota
	KindNonPagedExecute
	KindPaged
	NumKinds
)

var kindNames = [NumKinds]string{"NonPagedNx", "NonPagedExecute", "Paged"}

func (k Kind) String() string { return kindNames[k] }

// Paged reports whether k is the paged pool.
func (k Kind) Paged() bool { return k == KindPaged }

// PoolType is the POOL_TYPE a descriptor of kind k serves.
func (k Kind) PoolType() PoolType {
	return [NumKinds]PoolType{NonPagedPoolNx, NonPagedPoolExecute, PagedPool}[k]
}

// KindOf is the descriptor that serves t.
func KindOf(t PoolType) Kind {
	switch {
	case t&BasePoolTypeMask != 0:
		return KindPaged
	case t&PoolNxAllocation != 0:
		return KindNonPagedNx
	}
	return KindNonPagedExecute
}

// Priority is EX_POOL_PRIORITY.
type Priority uint32

// Priority values. The special-pool variants ask special pool to place the
// block against its overrun or underrun guard page, for an allocation that
// goes to special pool anyway (mm/verifier); elsewhere they are their base
// priority.
const (
	LowPoolPriority                       Priority = 0
	LowPoolPrioritySpecialPoolOverrun     Priority = 8
	LowPoolPrioritySpecialPoolUnderrun    Priority = 9
	NormalPoolPriority                    Priority = 16
	NormalPoolPrioritySpecialPoolOverrun  Priority = 24
	NormalPoolPrioritySpecialPoolUnderrun Priority = 25
	HighPoolPriority                      Priority = 32
	HighPoolPrioritySpecialPoolOverrun    Priority = 40
	HighPoolPrioritySpecialPoolUnderrun   Priority = 41

	// Offsets of the special-pool variants from their base priority.
	prioritySpecialPoolOverrun  Priority = 8
	prioritySpecialPoolUnderrun Priority = 9
	prioritySpecialPoolBits              = prioritySpecialPoolOverrun | prioritySpecialPoolUnderrun
)

// Base strips the special-pool bits.
func (p Priority) Base() Priority { return p &^ prioritySpecialPoolBits }

// Valid reports whether p is one of the EX_POOL_PRIORITY values.
func (p Priority) Valid() bool {
	b := p.Base()
	off := p - b
	return (b == LowPoolPriority || b == NormalPoolPriority || b == HighPoolPriority) &&
		(off == 0 || off == prioritySpecialPoolOverrun || off == prioritySpecialPoolUnderrun)
}

// Tag is a pool tag: four characters stored in memory order, so the tag
// written 'kdDM' in C (0x6B64444D) reads "MDdk" in a dump. MakeTag("MDdk")
// gives that value.
type Tag uint32

// tagLen is the number of characters in a tag.
const tagLen = 4

// MakeTag packs the first four characters of s in memory order, padding
// with spaces.
func MakeTag(s string) Tag {
	var t Tag
	for i := tagLen - 1; i >= 0; i-- {
		c := byte(' ')
		if i < len(s) {
			c = s[i]
		}
		t = t<<byteBits | Tag(c)
	}
	return t
}

// String is the tag's characters in memory order; unprintable bytes show as '.'.
func (t Tag) String() string {
	var b strings.Builder
	for i := 0; i < tagLen; i++ {
		c := byte(t >> (byteBits * i))
		if c < ' ' || c > '~' {
			c = '.'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// TagNone is "None", the tag ExAllocatePool and ExAllocatePoolWithQuota use.
const TagNone Tag = 0x656E6F4E

// IRQL levels the pool rules name.
const (
	PassiveLevel  = 0
	APCLevel      = 1
	DispatchLevel = 2
)
