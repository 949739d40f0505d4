// Ptr: a typed pool pointer a pool object may hold.
//
// A *U field would be a Go pointer in memory the collector does not scan
// (see the package comment), so a T refers to another pool object with a
// Ptr[U]: the address as an integer, with the type kept for the reader.
// The collector ignores it, which is right because what it points at is
// pool memory, freed only by Delete.

package object

import (
	"unsafe"

	"ntgo/mm/pool"
)

// Ptr is a pointer to a U in pool memory, held as an address.
type Ptr[U any] struct {
	addr uintptr
}

// PtrTo is the Ptr for p, which must point into pool memory (an object
// from New, or memory from ExAllocatePool*).
func PtrTo[U any](p *U) Ptr[U] { return Ptr[U]{addr: uintptr(unsafe.Pointer(p))} }

// Get is the pointer, or nil for the zero Ptr.
func (p Ptr[U]) Get() *U {
	if p.addr == 0 {
		return nil // the compiler takes pool.Ptr's result to be non-nil
	}
	return (*U)(pool.Ptr(p.addr))
}

// IsNil reports whether p points nowhere.
func (p Ptr[U]) IsNil() bool { return p.addr == 0 }
