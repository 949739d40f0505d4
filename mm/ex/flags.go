// ExAllocatePool2, ExAllocatePool3 and ExFreePool2: POOL_FLAGS and extended
// parameters.
//
// POOL_FLAGS splits into required flags (bits 0..31), which the allocator
// must recognize and satisfy or fail the call, and optional flags (bits
// 32..63), which it may ignore. ntgo knows every required flag NT defines;
// RESERVED1-3 and any required bit above POOL_FLAG_LAST_KNOWN_REQUIRED fail
// the call, as does POOL_FLAG_SESSION (ntgo has no session space). Of the
// optional flags, SPECIAL_POOL asks for a block of Driver Verifier's
// special pool (mm/verifier; normal pool when its budget is spent, as an
// optional flag allows), and unknown ones are ignored. Exactly one of NON_PAGED, NON_PAGED_EXECUTE and PAGED
// names the pool. Memory is zeroed unless UNINITIALIZED.
//
// Extended parameters (ExAllocatePool3) each carry an Optional bit: a
// parameter that cannot be satisfied fails the call if it is required and
// is ignored if optional. Secure-pool parameters allocate from a secure
// pool (securepool.go). A parameter type given twice, or an unknown
// required one, fails.
//
// The NUMA node (POOL_NODE_REQUIREMENT): a node above
// ke.QueryHighestNodeNumber is STATUS_INVALID_PARAMETER; past that it
// applies to NON_PAGED allocations only, as NT documents: without
// MM_ANY_NODE_OK the memory must be on that node or the call fails, with
// it the node is preferred. On a machine of several nodes such a request
// is served in whole pages from the node (pool.System.AllocateOnNode:
// ntgo's pool keeps no blocks per node, where NT keeps a non-paged pool
// per node), so a small block costs a page; on one node it is an ordinary
// allocation, and so is a preferred node over pages that cannot be placed
// (host arenas), where a required one is STATUS_NOT_SUPPORTED.
//
// A failing call returns nil; with POOL_FLAG_RAISE_ON_FAILURE it raises
// the failure's status instead: STATUS_INSUFFICIENT_RESOURCES for memory,
// STATUS_QUOTA_EXCEEDED for quota, STATUS_INVALID_PARAMETER for flags or
// parameters ntgo does not accept (securepool.go lists the secure pool's).

package ex

import (
	"unsafe"

	"ntgo/mm/pool"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// PoolFlags is POOL_FLAGS.
type PoolFlags uint64

// POOL_FLAG_* values.
const (
	PoolFlagRequiredStart     PoolFlags = 0x0000000000000001
	PoolFlagUseQuota          PoolFlags = 0x0000000000000001
	PoolFlagUninitialized     PoolFlags = pool.PoolFlagUninitialized
	PoolFlagSession           PoolFlags = 0x0000000000000004
	PoolFlagCacheAligned      PoolFlags = 0x0000000000000008
	PoolFlagReserved1         PoolFlags = 0x0000000000000010
	PoolFlagRaiseOnFailure    PoolFlags = pool.PoolFlagRaiseOnFailure
	PoolFlagNonPaged          PoolFlags = pool.PoolFlagNonPaged
	PoolFlagNonPagedExecute   PoolFlags = pool.PoolFlagNonPagedExecute
	PoolFlagPaged             PoolFlags = pool.PoolFlagPaged
	PoolFlagReserved2         PoolFlags = 0x0000000000000200
	PoolFlagReserved3         PoolFlags = 0x0000000000000400
	PoolFlagLastKnownRequired PoolFlags = PoolFlagReserved3
	PoolFlagRequiredEnd       PoolFlags = 0x0000000080000000
	PoolFlagOptionalStart     PoolFlags = 0x0000000100000000
	PoolFlagSpecialPool       PoolFlags = 0x0000000100000000
	PoolFlagOptionalEnd       PoolFlags = 0x8000000000000000
)

const (
	requiredFlags = PoolFlagRequiredEnd<<1 - PoolFlagRequiredStart // bits 0..31
	knownRequired = PoolFlagLastKnownRequired<<1 - PoolFlagRequiredStart
	reservedFlags = PoolFlagReserved1 | PoolFlagReserved2 | PoolFlagReserved3
	poolKindFlags = PoolFlagNonPaged | PoolFlagNonPagedExecute | PoolFlagPaged
)

// PoolExtendedParameterType is POOL_EXTENDED_PARAMETER_TYPE.
type PoolExtendedParameterType uint8

const (
	PoolExtendedParameterInvalidType PoolExtendedParameterType = iota
	PoolExtendedParameterPriority
	PoolExtendedParameterSecurePool
	PoolExtendedParameterNumaNode
	PoolExtendedParameterMax
)

// MmAnyNodeOK is MM_ANY_NODE_OK: a POOL_NODE_REQUIREMENT any node satisfies.
const MmAnyNodeOK = 0x80000000

// PoolExtendedParameter is POOL_EXTENDED_PARAMETER. NT's value is a union
// selected by Type; here the field Type names is the one read.
type PoolExtendedParameter struct {
	Type             PoolExtendedParameterType
	Optional         bool
	Priority         pool.Priority                 // PoolExtendedParameterPriority
	SecurePoolParams *PoolExtendedParamsSecurePool // PoolExtendedParameterSecurePool
	PreferredNode    uint32                        // PoolExtendedParameterNumaNode (POOL_NODE_REQUIREMENT)
}

// PoolExtendedParamsSecurePool is POOL_EXTENDED_PARAMS_SECURE_POOL.
type PoolExtendedParamsSecurePool struct {
	SecurePoolHandle uintptr
	Buffer           unsafe.Pointer
	Cookie           uintptr
	SecurePoolFlags  uint32
}

// request is a decoded ExAllocatePool2/3 call.
type request struct {
	t       pool.PoolType
	prio    pool.Priority
	quota   bool
	node    nodeRequest
	special bool
	secure  secureRequest
}

// decodeFlags maps POOL_FLAGS onto a pool type.
func decodeFlags(f PoolFlags) (request, ntstatus.Status) {
	r := request{prio: pool.NormalPoolPriority, quota: f&PoolFlagUseQuota != 0, special: f&PoolFlagSpecialPool != 0}
	switch {
	case f&requiredFlags&^knownRequired != 0 || f&reservedFlags != 0:
		return r, ntstatus.InvalidParameter
	case f&PoolFlagSession != 0:
		return r, ntstatus.NotSupported
	}
	t, ok := pool.FlagsPoolType(uint64(f))
	if !ok {
		return r, ntstatus.InvalidParameter
	}
	if f&PoolFlagCacheAligned != 0 {
		t |= pool.CacheAlignedPoolTypeMask
	}
	r.t = t
	return r, ntstatus.Success
}

// applyParameters folds ExAllocatePool3's extended parameters into r.
func applyParameters(r *request, f PoolFlags, params []PoolExtendedParameter) ntstatus.Status {
	var seen [PoolExtendedParameterMax]bool
	for _, p := range params {
		if p.Type == PoolExtendedParameterInvalidType || p.Type >= PoolExtendedParameterMax {
			if p.Optional {
				continue
			}
			return ntstatus.InvalidParameter
		}
		if seen[p.Type] {
			return ntstatus.InvalidParameter
		}
		seen[p.Type] = true
		st := ntstatus.Success
		switch p.Type {
		case PoolExtendedParameterPriority:
			if p.Priority.Valid() {
				r.prio = p.Priority
			} else {
				st = ntstatus.InvalidParameter
			}
		case PoolExtendedParameterSecurePool:
			if st = checkSecure(f, p.SecurePoolParams); st == ntstatus.Success {
				r.secure = secureRequest{params: p.SecurePoolParams, optional: p.Optional}
			}
		case PoolExtendedParameterNumaNode:
			st = nodeRequirement(r, p.PreferredNode)
		}
		if st != ntstatus.Success && !p.Optional {
			return st
		}
	}
	return ntstatus.Success
}

// nodeRequirement decodes a POOL_NODE_REQUIREMENT into r: a node above
// the highest is STATUS_INVALID_PARAMETER; on one node, and for paged
// pool, which it does not apply to, the node changes nothing. On several
// nodes, over a pool whose pages cannot be placed on a node (host arenas,
// pool.System.PlacesOnNodes), a preferred node is ignored and a required
// one is STATUS_NOT_SUPPORTED, which an Optional parameter ignores too.
func nodeRequirement(r *request, n uint32) ntstatus.Status {
	highest := ke.QueryHighestNodeNumber()
	node, required := n&^MmAnyNodeOK, n&MmAnyNodeOK == 0
	switch {
	case node > highest:
		return ntstatus.InvalidParameter
	case highest == 0 || pool.KindOf(r.t).Paged():
	case sys().pools.PlacesOnNodes():
		r.node = nodeRequest{node: node, set: true, required: required}
	case required:
		return ntstatus.NotSupported
	}
	return ntstatus.Success
}

// AllocatePool2 is ExAllocatePool2. Like ExAllocatePoolWithTag it is one
// call into the pool, which decodes the flags (mm/pool's poolflags.go) and
// serves the common ones itself; it returns any others to AllocatePool3
// (Init's pool.Config.AllocatePool2).
func AllocatePool2(f PoolFlags, n uintptr, tag pool.Tag) unsafe.Pointer {
	return pool.Ptr(loaded().pools.Allocate(pool.PoolType(f)|pool.FromPoolFlags, n, tag, pool.NormalPoolPriority, 0))
}

// allocateOtherFlags is the pool's Config.AllocatePool2: ExAllocatePool2
// of flags the pool does not decode.
func allocateOtherFlags(f uint64, n uintptr, tag pool.Tag) uintptr {
	return uintptr(allocatePool3(PoolFlags(f), n, tag, nil))
}

// AllocatePool3 is ExAllocatePool3: ExAllocatePool2 with extended
// parameters.
func AllocatePool3(f PoolFlags, n uintptr, tag pool.Tag, params []PoolExtendedParameter) unsafe.Pointer {
	if t, ok := pool.CommonFlagsType(uint64(f)); ok && len(params) == 0 {
		return pool.Ptr(sys().pools.Allocate(t, n, tag, pool.NormalPoolPriority, 0))
	}
	return allocatePool3(f, n, tag, params)
}

// allocatePool3 is AllocatePool3 past the common flags, which the pool has
// already found f is not when it calls allocateOtherFlags.
func allocatePool3(f PoolFlags, n uintptr, tag pool.Tag, params []PoolExtendedParameter) unsafe.Pointer {
	r, st := decodeFlags(f)
	if st == ntstatus.Success {
		st = applyParameters(&r, f, params)
	}
	var p unsafe.Pointer
	if st == ntstatus.Success && r.secure.params != nil {
		p, st = allocateSecure(r.secure, n, tag)
		if p == nil && r.secure.optional {
			st = ntstatus.Success
		}
	}
	switch {
	case st != ntstatus.Success || p != nil:
	case r.special && !r.quota:
		if p = pool.Ptr(sys().pools.AllocateSpecial(r.t, n, tag, r.prio)); p == nil {
			st = ntstatus.InsufficientResources
		}
	default:
		p, st = allocate(r.t, n, tag, r.prio, r.quota, r.node)
	}
	if p == nil && f&PoolFlagRaiseOnFailure != 0 {
		ntstatus.Raise(st)
	}
	return p
}

// FreePool2 is ExFreePool2. Without parameters it is ExFreePoolWithTag.
// With a secure-pool parameter it frees a secure block (securepool.go:
// the parameter must be the only one, with the handle and cookie, Buffer
// NULL and SecurePoolFlags 0, else BAD_POOL_CALLER). Other parameters are
// ignored.
func FreePool2(p unsafe.Pointer, tag pool.Tag, params []PoolExtendedParameter) {
	for _, x := range params {
		if x.Type == PoolExtendedParameterSecurePool {
			freeSecure(p, tag, params)
			return
		}
	}
	FreePoolWithTag(p, tag)
}
