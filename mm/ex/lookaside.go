// Drivers' lookaside lists: the classic NPAGED_LOOKASIDE_LIST and
// PAGED_LOOKASIDE_LIST, and LOOKASIDE_LIST_EX.
//
// Structure. All three are one GENERAL_LOOKASIDE (general): a pool.Lookaside
// (the cache of free entries, its depth and NT's counters: TotalAllocates,
// AllocateMisses, TotalFrees, FreeMisses, Depth, MaximumDepth), the pool
// type, tag and entry size, and a handle into the registry
// (lookaside_registry.go). The per-processor pool caches are the same
// pool.Lookaside, so both share one cache, one set of counters and one depth
// policy (pool.Lookaside.AdjustDepth, run for both by AdjustLookasideDepths).
//
// The Allocate and Free callbacks are Go funcs, so they live in the
// registry, not in the structure: the structure stays free of Go pointers
// and may sit in pool memory (a device extension), as NT requires of it.
// Only a miss needs a callback; hits never touch the registry.
//
// Allocation: pop a cached entry; on a miss call Allocate (default
// ExAllocatePoolWithTag) with the list's pool type, size and tag. Free: push
// the entry unless the cache is at its depth; then call Free (default
// ExFreePool). Flush (ExFlushLookasideListEx) and delete hand every cached
// entry to Free; entries a driver still holds stay the driver's, as in NT,
// and show up in the pool's tag counts until it frees them.
//
// Failure: the classic Flags may hold POOL_RAISE_IF_ALLOCATION_FAILURE and
// the Ex flags EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL or ..._FAIL_NO_RAISE;
// as in NT they are folded into the pool type the Allocate callback
// receives (POOL_RAISE_IF_ALLOCATION_FAILURE, POOL_QUOTA_FAIL_INSTEAD_OF_RAISE),
// so the default allocator raises STATUS_INSUFFICIENT_RESOURCES and a
// custom one decides for itself.
//
// Misuse: allocating from or freeing to a paged list above APC_LEVEL is
// BAD_POOL_CALLER 8/9, as for the pool itself, even when the cache serves
// it. Using or deleting a list that is not initialized (or was deleted)
// stops with KERNEL_SECURITY_CHECK_FAILURE type 3: in NT the list sits on a
// global LIST_ENTRY chain of lookaside lists and a second delete fails its
// safe unlink. A cached entry whose link was overwritten (the driver wrote
// to it after freeing it) is DRIVER_CORRUPTED_EXPOOL, as for the pool's own
// caches.
//
// Locking: the cache has its own lock (pool.Lookaside); the registry has a
// read-write lock taken on misses, initialization and deletion.

package ex

import (
	"unsafe"

	"ntgo/mm/pool"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

// AllocateFunction is PALLOCATE_FUNCTION: ExAllocatePoolWithTag's signature.
type AllocateFunction func(t pool.PoolType, n uintptr, tag pool.Tag) unsafe.Pointer

// FreeFunction is PFREE_FUNCTION: ExFreePool's signature.
type FreeFunction func(p unsafe.Pointer)

// AllocateFunctionEx is PALLOCATE_FUNCTION_EX: the list is passed so the
// driver can reach the structure it embedded the list in.
type AllocateFunctionEx func(t pool.PoolType, n uintptr, tag pool.Tag, l *LookasideListEx) unsafe.Pointer

// FreeFunctionEx is PFREE_FUNCTION_EX.
type FreeFunctionEx func(p unsafe.Pointer, l *LookasideListEx)

// LookasideListEx flags (EX_LOOKASIDE_LIST_EX_FLAGS_*); at most one.
const (
	LookasideListExFlagsRaiseOnFail uint32 = 1
	LookasideListExFlagsFailNoRaise uint32 = 2
)

// general is GENERAL_LOOKASIDE. It holds no Go pointers.
type general struct {
	cache pool.Lookaside
	// allocType is the pool type the Allocate callback receives: the list's
	// type with the raise or fail-no-raise bit its flags ask for.
	allocType pool.PoolType
	tag       pool.Tag
	size      uintptr
	handle    uint32 // registry slot plus one; 0 when not initialized
}

// NPagedLookasideList is NPAGED_LOOKASIDE_LIST.
type NPagedLookasideList struct{ l general }

// PagedLookasideList is PAGED_LOOKASIDE_LIST.
type PagedLookasideList struct{ l general }

// LookasideListEx is LOOKASIDE_LIST_EX.
type LookasideListEx struct{ l general }

// entrySize is the size of a list's entries: what the driver asked for, but
// at least enough for the cache's link.
func entrySize(n uintptr) uintptr { return max(n, pool.SListEntrySize) }

// init empties g and registers its callbacks.
func (g *general) init(t pool.PoolType, size uintptr, tag pool.Tag, api lookasideAPI, cb callbacks) {
	*g = general{allocType: t, tag: tag, size: entrySize(size)}
	g.cache.Init(pool.MaximumLookasideDepth)
	g.handle = register(g, api, cb)
}

// paged reports whether g's entries are paged pool.
func (g *general) paged() bool { return pool.KindOf(g.allocType).Paged() }

// allocate is ExAllocateFrom...LookasideList.
func (g *general) allocate() unsafe.Pointer {
	if g.paged() {
		if irql := sys().pools.IRQL(); irql > pool.APCLevel {
			badPoolCaller(pool.CallerAllocIRQL, uintptr(irql), uintptr(g.allocType), g.size)
		}
	}
	e, badLink, ok := g.cache.Allocate()
	if !ok {
		sys().pools.CorruptedExpool(badLink)
	}
	if e != 0 {
		return pool.Ptr(e)
	}
	return registered(g).cb.allocate(g)
}

// free is ExFreeTo...LookasideList.
func (g *general) free(p unsafe.Pointer) {
	if g.paged() {
		if irql := sys().pools.IRQL(); irql > pool.APCLevel {
			badPoolCaller(pool.CallerFreeIRQL, uintptr(irql), uintptr(g.allocType), uintptr(p))
		}
	}
	if g.cache.Free(uintptr(p)) {
		return
	}
	registered(g).cb.free(g, p)
}

// flush hands every cached entry to the Free callback.
func (g *general) flush(cb callbacks) {
	first, _ := g.cache.Flush()
	for e := first; e != 0; {
		next, ok := pool.SListNext(e)
		if !ok {
			sys().pools.CorruptedExpool(next)
		}
		cb.free(g, pool.Ptr(e)) // may overwrite the link: next was read first
		e = next
	}
}

// delete flushes g and unregisters it. The emptied cache has depth 0, so
// any later use misses into the registry check.
func (g *general) delete() {
	cb := unregister(g)
	g.flush(cb)
	*g = general{}
}

// classicCallbacks adapts PALLOCATE_FUNCTION/PFREE_FUNCTION, defaulting to
// ExAllocatePoolWithTag and ExFreePool.
func classicCallbacks(allocate AllocateFunction, free FreeFunction) callbacks {
	if allocate == nil {
		allocate = AllocatePoolWithTag
	}
	if free == nil {
		free = FreePool
	}
	return callbacks{
		allocate: func(g *general) unsafe.Pointer { return allocate(g.allocType, g.size, g.tag) },
		free:     func(_ *general, p unsafe.Pointer) { free(p) },
	}
}

// InitializeNPagedLookasideList is ExInitializeNPagedLookasideList. Flags
// is 0 or POOL_RAISE_IF_ALLOCATION_FAILURE. Depth is ignored: the system
// sizes the list from its miss rate.
func InitializeNPagedLookasideList(l *NPagedLookasideList, allocate AllocateFunction, free FreeFunction, flags pool.PoolType, size uintptr, tag pool.Tag, depth uint16) {
	l.l.init(pool.NonPagedPool|flags, size, tag, apiNPaged, classicCallbacks(allocate, free))
}

// InitializePagedLookasideList is ExInitializePagedLookasideList.
func InitializePagedLookasideList(l *PagedLookasideList, allocate AllocateFunction, free FreeFunction, flags pool.PoolType, size uintptr, tag pool.Tag, depth uint16) {
	l.l.init(pool.PagedPool|flags, size, tag, apiPaged, classicCallbacks(allocate, free))
}

// AllocateFromNPagedLookasideList is ExAllocateFromNPagedLookasideList: nil
// on failure unless the list raises.
func AllocateFromNPagedLookasideList(l *NPagedLookasideList) unsafe.Pointer { return l.l.allocate() }

// AllocateFromPagedLookasideList is ExAllocateFromPagedLookasideList.
func AllocateFromPagedLookasideList(l *PagedLookasideList) unsafe.Pointer { return l.l.allocate() }

// FreeToNPagedLookasideList is ExFreeToNPagedLookasideList.
func FreeToNPagedLookasideList(l *NPagedLookasideList, p unsafe.Pointer) { l.l.free(p) }

// FreeToPagedLookasideList is ExFreeToPagedLookasideList.
func FreeToPagedLookasideList(l *PagedLookasideList, p unsafe.Pointer) { l.l.free(p) }

// DeleteNPagedLookasideList is ExDeleteNPagedLookasideList: it frees every
// cached entry; entries the driver still holds remain its to free.
func DeleteNPagedLookasideList(l *NPagedLookasideList) { l.l.delete() }

// DeletePagedLookasideList is ExDeletePagedLookasideList.
func DeletePagedLookasideList(l *PagedLookasideList) { l.l.delete() }

// InitializeLookasideListEx is ExInitializeLookasideListEx: one call for
// paged and nonpaged entries. It fails with STATUS_INVALID_PARAMETER for
// unknown flags and STATUS_INVALID_PARAMETER_MIX for both flags. Depth is
// ignored.
func InitializeLookasideListEx(l *LookasideListEx, allocate AllocateFunctionEx, free FreeFunctionEx, t pool.PoolType, flags uint32, size uintptr, tag pool.Tag, depth uint16) ntstatus.Status {
	switch flags {
	case 0:
	case LookasideListExFlagsRaiseOnFail:
		t |= pool.PoolRaiseIfAllocationFailure
	case LookasideListExFlagsFailNoRaise:
		t |= pool.PoolQuotaFailInsteadOfRaise
	case LookasideListExFlagsRaiseOnFail | LookasideListExFlagsFailNoRaise:
		return ntstatus.InvalidParameterMix
	default:
		return ntstatus.InvalidParameter
	}
	if allocate == nil {
		allocate = func(t pool.PoolType, n uintptr, tag pool.Tag, _ *LookasideListEx) unsafe.Pointer {
			return AllocatePoolWithTag(t&^pool.PoolQuotaFailInsteadOfRaise, n, tag)
		}
	}
	if free == nil {
		free = func(p unsafe.Pointer, _ *LookasideListEx) { FreePool(p) }
	}
	l.l.init(t, size, tag, apiEx, callbacks{
		allocate: func(g *general) unsafe.Pointer { return allocate(g.allocType, g.size, g.tag, listEx(g)) },
		free:     func(g *general, p unsafe.Pointer) { free(p, listEx(g)) },
	})
	return ntstatus.Success
}

// listEx is the LookasideListEx whose only field is g.
func listEx(g *general) *LookasideListEx { return (*LookasideListEx)(unsafe.Pointer(g)) }

// AllocateFromLookasideListEx is ExAllocateFromLookasideListEx.
func AllocateFromLookasideListEx(l *LookasideListEx) unsafe.Pointer { return l.l.allocate() }

// FreeToLookasideListEx is ExFreeToLookasideListEx.
func FreeToLookasideListEx(l *LookasideListEx, p unsafe.Pointer) { l.l.free(p) }

// FlushLookasideListEx is ExFlushLookasideListEx: every cached entry goes
// to the Free callback; the list stays usable.
func FlushLookasideListEx(l *LookasideListEx) { l.l.flush(registered(&l.l).cb) }

// DeleteLookasideListEx is ExDeleteLookasideListEx.
func DeleteLookasideListEx(l *LookasideListEx) { l.l.delete() }

// badPoolCaller stops with BAD_POOL_CALLER.
func badPoolCaller(sub, p2, p3, p4 uintptr) {
	bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, sub, p2, p3, p4)
}
