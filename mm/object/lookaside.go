// Lookaside[T]: a LOOKASIDE_LIST_EX of constructed Ts.
//
// The list caches raw entries of sizeof(T) bytes (mm/ex); Allocate
// constructs a T in the entry it gets (zero, then Init) and Free destroys
// it before giving the entry back, so a cached entry never holds a live
// object and every T handed out starts from its zero value, as New's do.
// A Lookaside holds no Go pointers, so it may be embedded in a pool object
// (a device extension), like the list itself.

package object

import (
	"unsafe"

	"ntgo/mm/ex"
	"ntgo/mm/pool"
	"ntgo/nt/ntstatus"
)

// Lookaside is a lookaside list of Ts.
type Lookaside[T any] struct {
	list ex.LookasideListEx
}

// Init is ExInitializeLookasideListEx for entries of sizeof(T) from pool
// type t with tag, failing with NULL (flags 0) or raising
// (ex.LookasideListExFlagsRaiseOnFail).
func (l *Lookaside[T]) Init(t pool.PoolType, flags uint32, tag pool.Tag) ntstatus.Status {
	infoOf[T]()
	return ex.InitializeLookasideListEx(&l.list, nil, nil, t, flags, sizeOf[T](), tag, 0)
}

// Allocate is a constructed T from the list, or nil.
func (l *Lookaside[T]) Allocate() *T {
	info := acceptedInfo[T]()
	if info == nil {
		info = infoOf[T]()
	}
	return construct[T](info, zeroed[T](ex.AllocateFromLookasideListEx(&l.list)))
}

// Free destroys p and gives its memory back to the list.
func (l *Lookaside[T]) Free(p *T) {
	info := acceptedInfo[T]()
	if info == nil {
		info = infoOf[T]()
	}
	destroy(info, p)
	ex.FreeToLookasideListEx(&l.list, unsafe.Pointer(p))
}

// Flush releases the cached entries (ExFlushLookasideListEx).
func (l *Lookaside[T]) Flush() { ex.FlushLookasideListEx(&l.list) }

// Delete is ExDeleteLookasideListEx: the cached entries are released. Ts
// still out are the caller's: Free them before Delete, or object.Delete
// them after (each is a pool block of its own).
func (l *Lookaside[T]) Delete() { ex.DeleteLookasideListEx(&l.list) }
