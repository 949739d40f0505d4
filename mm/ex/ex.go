// Package ex is the driver-facing pool API: NT's ExAllocatePool* and
// ExFreePool* routines under Go names, each documented with its WDK name.
//
// Structure. Init builds the system's pools (a pool.System over the page
// sources and size limits the kernel derives from RAM; host tests pass
// arenas) and records the function that gives the current quota owner.
// The common routines (ExAllocatePoolWithTag and its variants without
// quota, ExFreePool[WithTag]) are small enough for the compiler to inline
// into the driver, so each is one call into the pool, whose Allocate (which
// also raises for POOL_RAISE_IF_ALLOCATION_FAILURE) and Free begin with the
// lookaside hit (mm/pool's fastpath.go); so is ExAllocatePool2, whose flags
// the pool decodes (mm/pool's poolflags.go), handing back to AllocatePool3
// those past one pool, zeroing and raising. The others
// funnel into allocate, which charges quota when
// asked, calls the pool core and reports a status; the routine then returns
// nil or raises, as NT's routine of that name does. Frees and
// ExQueryPoolBlockSize go straight to the core, which validates the block
// and stops the system on misuse (BAD_POOL_CALLER and friends, see
// mm/pool).
//
// Failure conventions, as in NT:
//   - ExAllocatePool, ExAllocatePoolWithTag, ...Zero, ...Uninitialized,
//     ...WithTagPriority: nil, unless the pool type has
//     POOL_RAISE_IF_ALLOCATION_FAILURE, then STATUS_INSUFFICIENT_RESOURCES
//     is raised;
//   - ExAllocatePoolWithQuota[Tag]: raise (STATUS_QUOTA_EXCEEDED or
//     STATUS_INSUFFICIENT_RESOURCES) unless POOL_QUOTA_FAIL_INSTEAD_OF_RAISE;
//   - ExAllocatePool2/3: nil, unless POOL_FLAG_RAISE_ON_FAILURE (flags.go).
//
// A raise is ntstatus.Raise: a panic with *ntstatus.Exception that
// ntstatus.Try catches.
//
// Returned memory is outside the Go heap: drivers may convert the pointer
// to a struct pointer, but must not store Go pointers in it.
package ex

import (
	"errors"
	"sync/atomic"
	"unsafe"

	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/securepool"
	"ntgo/nt/ntstatus"
)

// Config is what the kernel hands Init.
type Config struct {
	// Pool configures the pools; Init sets its ReturnQuota.
	Pool pool.Config
	// QuotaOwner is the current quota owner (the current process); nil, or
	// a nil result, means the system, which is not charged.
	QuotaOwner func() *QuotaBlock
	// Secure is the secure pools' pages (securepool.go); nil means none:
	// ExCreatePool then returns STATUS_NOT_SUPPORTED.
	Secure securepool.Pages
}

type system struct {
	pools      *pool.System
	quotaOwner func() *QuotaBlock
	secure     *securepool.System
}

// current is the *system Init built. It is an unsafe.Pointer read with
// atomic.LoadPointer rather than an atomic.Pointer[system] because the
// generic Load costs the inliner more, and ExFreePool[WithTag] must stay
// small enough to inline.
var current unsafe.Pointer

// loaded is the current system, or nil before Init.
func loaded() *system { return (*system)(atomic.LoadPointer(&current)) }

// Init builds the system's pools; it replaces any earlier ones.
func Init(c Config) (*pool.System, error) {
	c.Pool.ReturnQuota = returnQuota
	c.Pool.AllocatePool2 = allocateOtherFlags
	p, err := pool.New(c.Pool)
	if err != nil {
		return nil, err
	}
	owner := c.QuotaOwner
	if owner == nil {
		owner = func() *QuotaBlock { return nil }
	}
	var secure *securepool.System
	if c.Secure != nil {
		secure = securepool.New(c.Secure, 0)
	}
	atomic.StorePointer(&current, unsafe.Pointer(&system{pools: p, quotaOwner: owner, secure: secure}))
	return p, nil
}

// Pools is the system's pool.System (for the debugger views and statistics).
func Pools() *pool.System { return sys().pools }

var errNotInitialized = errors.New("ex: pool used before ex.Init")

// Initialized reports whether ex.Init has run (the debugger's views ask
// before reading the pools).
func Initialized() bool { return loaded() != nil }

func sys() *system {
	s := loaded()
	if s == nil {
		panic(errNotInitialized)
	}
	return s
}

// nodeRequest is an ExAllocatePool3 NUMA node to allocate on; the zero
// value is none.
type nodeRequest struct {
	node          uint32
	set, required bool
}

// allocate charges quota if asked, then allocates (on the node nr names,
// if any); it reports why it failed.
func allocate(t pool.PoolType, n uintptr, tag pool.Tag, prio pool.Priority, quota bool, nr nodeRequest) (unsafe.Pointer, ntstatus.Status) {
	s := sys()
	var q *QuotaBlock
	var owner, charge uintptr
	k := pool.KindOf(t)
	if quota {
		if q = s.quotaOwner(); q != nil {
			charge = pool.ChargeSize(t, n)
			if nr.set && !k.Paged() {
				charge = pool.NodePages(n) * physmem.PageSize
			}
			if !q.charge(k, charge) {
				return nil, ntstatus.QuotaExceeded
			}
			owner = q.owner()
		}
	}
	var va uintptr
	if nr.set {
		va = s.pools.AllocateOnNode(t, n, tag, prio, owner, nr.node, nr.required)
	} else {
		va = s.pools.Allocate(t, n, tag, prio, owner)
	}
	if va == 0 {
		if q != nil {
			q.release(k, charge)
		}
		return nil, ntstatus.InsufficientResources
	}
	return pool.Ptr(va), ntstatus.Success
}

// AllocatePool is ExAllocatePool (deprecated): ExAllocatePoolWithTag with
// the tag "None".
func AllocatePool(t pool.PoolType, n uintptr) unsafe.Pointer {
	return AllocatePoolWithTag(t, n, pool.TagNone)
}

// AllocatePoolWithTag is ExAllocatePoolWithTag: n bytes of pool type t,
// not zeroed (unless t has POOL_ZERO_ALLOCATION); nil on failure, or a raise
// of STATUS_INSUFFICIENT_RESOURCES if t has POOL_RAISE_IF_ALLOCATION_FAILURE.
//
// It and the routines below without quota are one call into the pool,
// which raises for POOL_RAISE_IF_ALLOCATION_FAILURE itself; they read the
// system with loaded (see FreePoolWithTag) to stay small enough to inline.
func AllocatePoolWithTag(t pool.PoolType, n uintptr, tag pool.Tag) unsafe.Pointer {
	return pool.Ptr(loaded().pools.Allocate(t, n, tag, pool.NormalPoolPriority, 0))
}

// AllocatePoolZero is ExAllocatePoolZero: ExAllocatePoolWithTag with the
// memory zeroed.
func AllocatePoolZero(t pool.PoolType, n uintptr, tag pool.Tag) unsafe.Pointer {
	return pool.Ptr(loaded().pools.Allocate(t|pool.PoolZeroAllocation, n, tag, pool.NormalPoolPriority, 0))
}

// AllocatePoolUninitialized is ExAllocatePoolUninitialized:
// ExAllocatePoolWithTag, named to say the memory is not zeroed.
func AllocatePoolUninitialized(t pool.PoolType, n uintptr, tag pool.Tag) unsafe.Pointer {
	return pool.Ptr(loaded().pools.Allocate(t, n, tag, pool.NormalPoolPriority, 0))
}

// AllocatePoolWithTagPriority is ExAllocatePoolWithTagPriority: under pool
// pressure LowPoolPriority fails first, NormalPoolPriority next, and
// HighPoolPriority may use the reserve (see mm/pool's region ceilings).
func AllocatePoolWithTagPriority(t pool.PoolType, n uintptr, tag pool.Tag, prio pool.Priority) unsafe.Pointer {
	return pool.Ptr(loaded().pools.Allocate(t, n, tag, prio, 0))
}

// AllocatePoolWithQuota is ExAllocatePoolWithQuota (deprecated):
// ExAllocatePoolWithQuotaTag with the tag "None".
func AllocatePoolWithQuota(t pool.PoolType, n uintptr) unsafe.Pointer {
	return AllocatePoolWithQuotaTag(t, n, pool.TagNone)
}

// AllocatePoolWithQuotaTag is ExAllocatePoolWithQuotaTag: the allocation is
// charged to the current quota owner. On failure it raises
// STATUS_QUOTA_EXCEEDED or STATUS_INSUFFICIENT_RESOURCES, or returns nil if
// t has POOL_QUOTA_FAIL_INSTEAD_OF_RAISE.
func AllocatePoolWithQuotaTag(t pool.PoolType, n uintptr, tag pool.Tag) unsafe.Pointer {
	failInstead := t&pool.PoolQuotaFailInsteadOfRaise != 0
	t &^= pool.PoolQuotaFailInsteadOfRaise | pool.PoolRaiseIfAllocationFailure
	p, st := allocate(t, n, tag, pool.NormalPoolPriority, true, nodeRequest{})
	if p == nil && !failInstead {
		ntstatus.Raise(st)
	}
	return p
}

// FreePool is ExFreePool.
func FreePool(p unsafe.Pointer) { loaded().pools.Free(uintptr(p), 0) }

// FreePoolWithTag is ExFreePoolWithTag: the block's tag must be tag
// (BAD_POOL_CALLER 0xA otherwise).
//
// It and FreePool read the system with loaded, not sys, to stay small
// enough to inline: before Init, when there is no pool block to free,
// they panic on the nil system instead of with errNotInitialized.
func FreePoolWithTag(p unsafe.Pointer, tag pool.Tag) { loaded().pools.Free(uintptr(p), tag) }

// QueryPoolBlockSize is ExQueryPoolBlockSize: the usable size of the block
// at p and whether quota was charged for it.
func QueryPoolBlockSize(p unsafe.Pointer) (size uintptr, quotaCharged bool) {
	return sys().pools.BlockSize(uintptr(p))
}
