// SList: a LIFO of blocks that live in foreign memory.
//
// This is NT's SLIST_HEADER/SLIST_ENTRY: the list head holds the first
// entry's address and each entry holds the next one's in its first word. It
// backs Lookaside (the driver-facing lookaside API) and each descriptor's
// PendingFrees; the per-processor pool caches chain their blocks with the
// same guarded entries (slistLink, SListNext) under their processor's busy
// word instead of this lock (percpu.go).
//
// Entries are blocks whose owner has freed them, so a stray write by that
// owner lands on the link. Each entry therefore stores its link twice,
// the second copy XORed with a per-boot guard; a pop that finds the copies
// disagreeing reports the damage instead of following a wild pointer. An
// entry needs SListEntrySize bytes.
//
// NT pops and pushes with a 16-byte compare-and-swap over head, depth and a
// sequence number (to defeat ABA); nt/list has that SLIST, over
// CMPXCHG16B. SList does not use it, for two reasons. Its entries carry the
// guarded link above, and a pop must validate the link before it swaps
// (a mismatch seen by a lock-free pop may be another processor's pop in
// progress, so it would have to re-read the header to tell damage from a
// race), which InterlockedPopEntrySList does not do. And Lookaside takes
// this lock to keep its counters exact and to admit a push only below the
// depth; on the lock-free list those become approximate, as NT's are. The
// mutex is held for a handful of instructions and never across a call out. SList holds no Go pointers, so it may itself live in pool
// memory (a driver's lookaside list in a device extension).

package pool

import (
	"math/rand/v2"
	"sync"
)

// Entry layout.
const (
	slistNext      = 0 // next entry, or 0
	slistCheck     = 8 // next ^ slistGuard
	SListEntrySize = 16
)

// slistGuard is chosen once per boot; odd, so an all-zero entry never checks.
var slistGuard = uintptr(rand.Uint64()) | 1

// SList is a guarded singly linked LIFO. The zero value is empty.
type SList struct {
	mu    sync.Mutex
	head  uintptr
	depth uint32
}

func slistLink(e, next uintptr) {
	storePtr(e+slistNext, next)
	storePtr(e+slistCheck, next^slistGuard)
}

// SListNext is the entry after e. ok is false if e's link was overwritten;
// next is then the damaged value.
func SListNext(e uintptr) (next uintptr, ok bool) {
	next = loadPtr(e + slistNext)
	return next, loadPtr(e+slistCheck) == next^slistGuard
}

// Push adds e (at least SListEntrySize bytes) at the head and returns the
// new depth.
func (l *SList) Push(e uintptr) uint32 {
	l.mu.Lock()
	l.pushLocked(e)
	d := l.depth
	l.mu.Unlock()
	return d
}

// Pop removes the head entry, or returns e=0 when empty. If the head's link
// was overwritten, the list is left untouched and ok is false with badLink
// the damaged value.
func (l *SList) Pop() (e, badLink uintptr, ok bool) {
	l.mu.Lock()
	e, badLink, ok = l.popLocked()
	l.mu.Unlock()
	return e, badLink, ok
}

func (l *SList) pushLocked(e uintptr) {
	slistLink(e, l.head)
	l.head = e
	l.depth++
}

func (l *SList) popLocked() (e, badLink uintptr, ok bool) {
	e = l.head
	if e == 0 {
		return 0, 0, true
	}
	next, good := SListNext(e)
	if !good {
		return 0, next, false
	}
	l.head = next
	l.depth--
	return e, 0, true
}

// PopAll empties the list and returns its former first entry and length;
// walk the chain with SListNext.
func (l *SList) PopAll() (first uintptr, n uint32) {
	l.mu.Lock()
	first, n = l.head, l.depth
	l.head, l.depth = 0, 0
	l.mu.Unlock()
	return first, n
}

// Depth is the number of entries (NT's ExQueryDepthSList).
func (l *SList) Depth() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.depth
}
