// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The crash dump's copy of the database. The kernel takes it while the
// other processors are stalled, so that the lists it copies hold still,
// and a stalled processor may hold any lock of the Go runtime's: the copy
// must not be able to wait on one, so it has no stack check (a stack
// growth or a preemption could wait) and does not allocate.

package pfn

import "ntgo/mm/physmem"

// Snapshot copies db's entries, list heads and counts into s, a database
// from db.NewSnapshot, without the lock and without allocating.
//
//go:nosplit
func (db *Database) Snapshot(s *Database) {
	s.setLen(min(db.Frames(), physmem.PFN(cap(s.entries))))
	copy(s.entries, db.entries)
	s.lists = db.lists
	s.count = db.count
	s.nodes = db.nodes
	s.deferred = db.deferred
}
