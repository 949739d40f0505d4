// Package object is typed allocation from the executive pools: the
// overloaded new and delete a C++ driver defines (seed 001), in Go generics.
//
//	dev := object.New[Device](pool.NonPagedPool, tag) // sizeof(Device), zeroed, (*Device).Init run
//	defer object.Delete(dev)                          // (*Device).Destroy run, then ExFreePool
//
// Structure. New and its variants allocate sizeof(T) through mm/ex (so pool
// tags, quotas, IRQL rules and raise conventions are ExAllocatePool*'s),
// zero the memory unless asked not to, and run T's constructor if *T has
// one (Initializer); Delete runs the destructor if *T has one (Destroyer)
// and frees. NewArray keeps its element count in a header before the
// elements (array.go); Construct and Destruct are placement new and an
// explicit destructor call on memory the caller owns; Lookaside hands out
// constructed objects from a LOOKASIDE_LIST_EX (lookaside.go).
//
// Alignment: pool blocks start on pool.BlockUnit (16-byte) boundaries,
// which is more than any Go type needs on amd64 (at most 8), so sizeof(T)
// from the pool is always aligned for T.
//
// The GC rule. Pool memory is outside the Go heap: the collector never scans
// it. A Go pointer stored there is invisible, so the object it points to
// may be freed while the pool still refers to it. A T allocated here must
// therefore hold no Go pointers: no pointers, slices, maps, strings,
// interfaces, channels, funcs, and no unsafe.Pointer either (it tells the
// collector and the write barrier "Go pointer", and a Go pointer is exactly
// what cannot be vetted here). A T refers to pool memory with a uintptr or,
// typed, with Ptr[U]; to other structures with links (nt/list); to Go
// objects by handle (an index into a table the driver keeps in Go memory).
//
// The rule is checked by reflection the first time each type is used, and
// the verdict is cached per type: a violating T makes New (and every other
// entry point) panic with a *TypeError that names the type and the path to
// the offending field. It is a programming error, found on first use, not a
// run-time condition, so it is a panic rather than a status.
package object

import (
	"unsafe"

	"ntgo/mm/ex"
	"ntgo/mm/pool"
)

// Initializer is a type with a constructor: New, Construct, NewArray and
// Lookaside call Init on the zeroed object before handing it out.
type Initializer interface{ Init() }

// Destroyer is a type with a destructor: Delete, Destruct, DeleteArray and
// Lookaside call Destroy before the memory is released.
type Destroyer interface{ Destroy() }

// sizeOf is sizeof(T).
func sizeOf[T any]() uintptr {
	var zero T
	return unsafe.Sizeof(zero)
}

// construct turns memory that holds a T's (zeroed) bytes into a
// constructed T: Init, if *T has it (nil stays nil). It and destroy are
// small enough to inline, so New and Delete are one call into the pool
// when T has no constructor or destructor.
func construct[T any](info *typeInfo, mem unsafe.Pointer) *T {
	p := (*T)(mem)
	if p != nil && info.init {
		initialize(p)
	}
	return p
}

// initialize is construct's call; not inlined, so that construct is.
//
//go:noinline
func initialize[T any](p *T) { any(p).(Initializer).Init() }

// zeroed clears the sizeof(T) bytes at mem, unless mem is nil, and
// returns it.
func zeroed[T any](mem unsafe.Pointer) unsafe.Pointer {
	if mem != nil {
		clear(unsafe.Slice((*byte)(mem), sizeOf[T]()))
	}
	return mem
}

// destroy runs p's destructor if it has one.
func destroy[T any](info *typeInfo, p *T) {
	if info.destroy {
		finalize(p)
	}
}

// finalize is destroy's call.
func finalize[T any](p *T) { any(p).(Destroyer).Destroy() }

// New is `new (t, tag) T`: a zeroed, constructed T from pool type t, or nil
// if the pool cannot supply it. If t has POOL_RAISE_IF_ALLOCATION_FAILURE it
// raises STATUS_INSUFFICIENT_RESOURCES instead of returning nil.
func New[T any](t pool.PoolType, tag pool.Tag) *T {
	info := acceptedInfo[T]()
	if info == nil {
		info = infoOf[T]()
	}
	return construct[T](info, ex.AllocatePoolZero(t, sizeOf[T](), tag))
}

// NewUninitialized is New without the zeroing: Init must set every field.
func NewUninitialized[T any](t pool.PoolType, tag pool.Tag) *T {
	info := infoOf[T]()
	return construct[T](info, ex.AllocatePoolUninitialized(t, sizeOf[T](), tag))
}

// NewWithPriority is `new (t, priority, tag) T`
// (ExAllocatePoolWithTagPriority).
func NewWithPriority[T any](t pool.PoolType, tag pool.Tag, prio pool.Priority) *T {
	info := infoOf[T]()
	return construct[T](info, ex.AllocatePoolWithTagPriority(t|pool.PoolZeroAllocation, sizeOf[T](), tag, prio))
}

// NewFlags allocates through ExAllocatePool3: POOL_FLAG_* choose the pool,
// zeroing (POOL_FLAG_UNINITIALIZED skips it) and raising
// (POOL_FLAG_RAISE_ON_FAILURE); the extended parameters give a priority or
// a NUMA node (PoolExtendedParameterNumaNode).
func NewFlags[T any](flags ex.PoolFlags, tag pool.Tag, params ...ex.PoolExtendedParameter) *T {
	info := infoOf[T]()
	return construct[T](info, ex.AllocatePool3(flags, sizeOf[T](), tag, params))
}

// Delete is `delete p`: Destroy, then ExFreePool. The pool counts the free
// against the tag in p's header. A nil p does nothing.
func Delete[T any](p *T) {
	if p == nil {
		return
	}
	info := acceptedInfo[T]()
	if info == nil {
		info = infoOf[T]()
	}
	destroy(info, p)
	ex.FreePool(unsafe.Pointer(p))
}

// DeleteWithTag is Delete through ExFreePoolWithTag: p's tag must be tag
// (BAD_POOL_CALLER 0xA otherwise).
func DeleteWithTag[T any](p *T, tag pool.Tag) {
	if p == nil {
		return
	}
	destroy(infoOf[T](), p)
	ex.FreePoolWithTag(unsafe.Pointer(p), tag)
}

// Construct is placement new: it zeroes the sizeof(T) bytes at mem, runs
// Init and returns them as a *T. The memory stays the caller's.
func Construct[T any](mem unsafe.Pointer) *T {
	return construct[T](infoOf[T](), zeroed[T](mem))
}

// Destruct is an explicit destructor call: Destroy, without freeing.
func Destruct[T any](p *T) {
	destroy(infoOf[T](), p)
}
