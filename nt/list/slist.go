// SLIST: NT's interlocked singly linked LIFO (SLIST_HEADER, SLIST_ENTRY).
//
// The header is one 16-byte word updated only by CMPXCHG16B:
//
//	low  quadword   bits 0..15   depth (entries on the list, modulo 2^16 as in NT)
//	                bits 16..63  sequence, bumped by every push, pop and flush
//	high quadword                address of the first entry, or 0
//
// The sequence defeats ABA: a pop reads the first entry E and E's Next,
// then swaps the header to Next only if the whole 16 bytes are unchanged.
// Had another processor popped E, pushed something and pushed E back in
// between, E is first again but the sequence moved on, so the stale Next
// is never installed.
//
// CMPXCHG16B needs its operand 16-byte aligned and Go aligns nothing past 8
// bytes, so SListHeader is three quadwords and the routines use the aligned
// pair inside it (aligned). Go's sync/atomic has no 16-byte compare and
// swap; cas16 is a few lines of assembly.
//
// A pop reads E.Next from an entry another processor may just have popped
// and freed. While E's page stays mapped the read merely yields a value the
// compare-and-swap then rejects. If the page was released meanwhile the
// read faults; NT's page-fault handler recognizes a fault at that read and
// restarts the pop, and ntgo's kernel fault handler must do the same once
// pool pages that hold SLIST entries can be unmapped while a pop runs.
//
// Everything here is //go:nosplit and allocation-free, so it may run where
// the stack cannot grow (interrupt and fault context).

package list

import (
	"sync/atomic"
	"unsafe"
)

// SListHeader is SLIST_HEADER. The zero value is an empty list
// (InitializeSListHead also empties one).
type SListHeader struct {
	words [slistHeaderWords]uint64
}

// SListEntry is SLIST_ENTRY.
type SListEntry struct {
	Next uintptr
}

// Header word layout.
const (
	slistHeaderWords = 3 // two for the header, one to find a 16-byte boundary in
	slistAlign       = 16
	depthBits        = 16
	depthMask        = 1<<depthBits - 1
	sequenceOne      = 1 << depthBits // the sequence's unit in the low quadword
)

// cas16 is LOCK CMPXCHG16B on the 16-byte-aligned pair at p: if p holds
// (oldLo, oldHi) it stores (newLo, newHi) and reports true.
//
//go:noescape
func cas16(p *[2]uint64, oldLo, oldHi, newLo, newHi uint64) bool

// aligned is the header's 16-byte-aligned pair of quadwords.
//
//go:nosplit
func (h *SListHeader) aligned() *[2]uint64 {
	skip := -uintptr(unsafe.Pointer(h)) & (slistAlign - 1)
	return (*[2]uint64)(unsafe.Add(unsafe.Pointer(h), skip))
}

// load reads the header; the two halves may come from different moments,
// which the compare-and-swap that follows detects.
//
//go:nosplit
func load(w *[2]uint64) (lo, hi uint64) {
	return atomic.LoadUint64(&w[0]), atomic.LoadUint64(&w[1])
}

// withDepth is the low quadword after a change of depth by delta.
//
//go:nosplit
func withDepth(lo uint64, delta int) uint64 {
	return lo&^depthMask + sequenceOne | uint64(int(lo&depthMask)+delta)&depthMask
}

// InitializeSListHead is InitializeSListHead: an empty list. It must not
// race with other use of h.
//
//go:nosplit
func InitializeSListHead(h *SListHeader) {
	h.words = [slistHeaderWords]uint64{}
}

// InterlockedPushEntrySList is InterlockedPushEntrySList: e becomes the
// first entry. It returns the previous first entry, or nil.
//
//go:nosplit
func InterlockedPushEntrySList(h *SListHeader, e *SListEntry) *SListEntry {
	escape(unsafe.Pointer(e))
	w := h.aligned()
	for {
		lo, hi := load(w)
		atomic.StoreUintptr(&e.Next, uintptr(hi))
		if cas16(w, lo, hi, withDepth(lo, 1), uint64(addr(e))) {
			return at[SListEntry](uintptr(hi))
		}
	}
}

// InterlockedPopEntrySList is InterlockedPopEntrySList: it removes and
// returns the first entry, or nil if the list is empty.
//
//go:nosplit
func InterlockedPopEntrySList(h *SListHeader) *SListEntry {
	w := h.aligned()
	for {
		lo, hi := load(w)
		if hi == 0 {
			return nil
		}
		first := at[SListEntry](uintptr(hi))
		if cas16(w, lo, hi, withDepth(lo, -1), uint64(atomic.LoadUintptr(&first.Next))) {
			return first
		}
	}
}

// InterlockedFlushSList is InterlockedFlushSList: it empties the list and
// returns the former first entry (the chain stays linked through Next), or
// nil if it was empty.
//
//go:nosplit
func InterlockedFlushSList(h *SListHeader) *SListEntry {
	w := h.aligned()
	for {
		lo, hi := load(w)
		if hi == 0 {
			return nil
		}
		if cas16(w, lo, hi, withDepth(lo, -int(lo&depthMask)), 0) {
			return at[SListEntry](uintptr(hi))
		}
	}
}

// QueryDepthSList is QueryDepthSList: the number of entries, modulo 2^16.
//
//go:nosplit
func QueryDepthSList(h *SListHeader) uint16 {
	return uint16(atomic.LoadUint64(&h.aligned()[0]) & depthMask)
}
