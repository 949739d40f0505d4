// ExAllocatePool2's POOL_FLAGS, as Allocate takes them.
//
// mm/ex's ExAllocatePool2 is one call into the pool, as
// ExAllocatePoolWithTag is: it passes its flags unchanged, as a PoolType
// with FromPoolFlags set, and Allocate decodes them before anything else.
// The common flags (one pool, zeroed unless POOL_FLAG_UNINITIALIZED,
// raising or not) become the PoolType they mean and take the lookaside
// hit; any other flags go back to mm/ex's full decoding
// (Config.AllocatePool2), which reports its errors as ExAllocatePool2
// does. Decoding in mm/ex instead would keep its routine too large for the
// compiler to inline, and under TCG every call costs ~45 ns.
//
// FromPoolFlags is bit 63, POOL_FLAG_OPTIONAL_END: an optional flag that
// NT gives no meaning and the allocator may ignore, so taking it over
// loses nothing. PoolType is 64 bits wide to carry the optional flags.

package pool

// FromPoolFlags marks a PoolType whose other bits are POOL_FLAGS.
const FromPoolFlags PoolType = 1 << 63

// The POOL_FLAGS bits the pool decodes, NT's values (mm/ex names them all).
const (
	PoolFlagUninitialized   = 0x0000000000000002
	PoolFlagRaiseOnFailure  = 0x0000000000000020
	PoolFlagNonPaged        = 0x0000000000000040
	PoolFlagNonPagedExecute = 0x0000000000000080
	PoolFlagPaged           = 0x0000000000000100

	poolKindFlags = PoolFlagNonPaged | PoolFlagNonPagedExecute | PoolFlagPaged
	commonFlags   = PoolFlagUninitialized | PoolFlagRaiseOnFailure | poolKindFlags
)

// FlagsPoolType is the pool type the pool flag of the POOL_FLAGS f names,
// zeroed unless f has POOL_FLAG_UNINITIALIZED; ok is false unless f names
// exactly one pool.
func FlagsPoolType(f uint64) (t PoolType, ok bool) {
	switch f & poolKindFlags {
	case PoolFlagNonPaged:
		t = NonPagedPoolNx
	case PoolFlagNonPagedExecute:
		t = NonPagedPoolExecute
	case PoolFlagPaged:
		t = PagedPool
	default:
		return 0, false
	}
	if f&PoolFlagUninitialized == 0 {
		t |= PoolZeroAllocation
	}
	return t, true
}

// CommonFlagsType is the pool type of the POOL_FLAGS f if f has only the
// common flags (one pool, zeroed or not, raising or not), which need no
// decoding past that; ok is false for any other flags. It looks the pool
// and the raise bit up in commonTypes, since Allocate runs it on
// ExAllocatePool2's hit path.
func CommonFlagsType(f uint64) (PoolType, bool) {
	t := commonTypes[f/PoolFlagRaiseOnFailure%uint64(len(commonTypes))]
	t ^= PoolType(f&PoolFlagUninitialized) * (PoolZeroAllocation / PoolFlagUninitialized)
	return t, f&^commonFlags == 0 && t&FromPoolFlags == 0
}

// commonTypes is the zeroed pool type of each combination of the raise
// and pool flags (bits 5 to 8 of POOL_FLAGS), FromPoolFlags where they
// name no pool or several.
var commonTypes = func() (ts [16]PoolType) {
	for i := range ts {
		f := uint64(i) * PoolFlagRaiseOnFailure
		t, ok := FlagsPoolType(f)
		switch {
		case !ok:
			t = FromPoolFlags
		case f&PoolFlagRaiseOnFailure != 0:
			t |= PoolRaiseIfAllocationFailure
		}
		ts[i] = t
	}
	return ts
}()

// allocateFlags is Allocate of the POOL_FLAGS f that CommonFlagsType does
// not decode: Config.AllocatePool2's, or 0 without one.
func (s *System) allocateFlags(f uint64, n uintptr, tag Tag) uintptr {
	if s.allocatePool2 == nil {
		return 0
	}
	return s.allocatePool2(f, n, tag)
}
