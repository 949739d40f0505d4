// Package list is NT's intrusive linked lists: LIST_ENTRY (doubly linked,
// circular, with a head), SINGLE_LIST_ENTRY (singly linked, with a head)
// and SLIST_HEADER/SLIST_ENTRY (an interlocked LIFO, slist.go), plus
// CONTAINING_RECORD to get from a link back to the structure holding it.
//
// Structure. A link is embedded in the structure it chains, as in C; the
// list code only ever touches links. Links hold addresses as uintptr, not
// Go pointers, because they live mostly in pool memory, which the Go
// collector does not scan (see mm/object): a link is an integer to the
// collector, so a structure holding one is safe to place in pool memory,
// and updating a link needs no write barrier.
//
// Memory rule. Whatever a link points at must not move or be freed while
// it is linked: pool memory, or Go memory that something else keeps alive
// (a global, a heap object the driver holds). A goroutine stack would move
// under the links, so the routines that record an address (initializing a
// head, inserting, pushing) pass it through escape, an assembly no-op the
// compiler must assume keeps its argument: a head or entry declared as a
// local variable is then allocated on the heap instead of the stack.
//
// Integrity. The doubly linked routines check the links they follow before
// they change anything, as NT's do since Windows 8: an entry's neighbours
// must point back at it. A mismatch means a double remove, a use after
// free or a stray write, and NT fails fast with KERNEL_SECURITY_CHECK_FAILURE
// (0x139) type 3 (FAST_FAIL_CORRUPT_LIST_ENTRY); so does ntgo, see
// corrupt. The singly linked list has nothing to cross-check.
//
// Locking: none here. LIST_ENTRY and SINGLE_LIST_ENTRY lists are guarded by
// their owner's lock, as in NT; SLIST is the lock-free one.
package list

import (
	"unsafe"

	"ntgo/nt/bugcheck"
)

// ListEntry is LIST_ENTRY. A head is a ListEntry too: an empty list is a
// head whose links point at itself.
type ListEntry struct {
	Flink, Blink uintptr
}

// SingleListEntry is SINGLE_LIST_ENTRY: a head's Next is the first entry,
// and the last entry's Next is 0.
type SingleListEntry struct {
	Next uintptr
}

// escape makes the compiler keep p off the stack (see the package comment).
// It is an assembly function without //go:noescape, so the compiler
// assumes p escapes.
func escape(p unsafe.Pointer)

// addr is e's address as a link value.
func addr[E any](e *E) uintptr { return uintptr(unsafe.Pointer(e)) }

// at is the link at address a, or nil for 0. unsafe.Add from nil turns an
// address that did not come from a Go object into a pointer in the form vet
// accepts; the compiler takes its result to be non-nil, hence the test.
//
//go:nosplit
func at[E any](a uintptr) *E {
	if a == 0 {
		return nil
	}
	return (*E)(unsafe.Add(nil, a))
}

// entry is the ListEntry a link names.
func entry(link uintptr) *ListEntry { return at[ListEntry](link) }

// Next is the entry after e (the head again after the last entry).
func (e *ListEntry) Next() *ListEntry { return entry(e.Flink) }

// Prev is the entry before e (the head again before the first entry).
func (e *ListEntry) Prev() *ListEntry { return entry(e.Blink) }

// corrupt stops the system for a LIST_ENTRY whose neighbours disagree with
// it. NT's parameters 2 and 3 are the trap frame and exception record of
// the fast-fail trap; ntgo raises no trap and gives instead the entry being
// checked and the link that should have pointed back at it.
func corrupt(e *ListEntry, badLink uintptr) {
	bugcheck.KeBugCheckEx(bugcheck.KernelSecurityCheckFailure, bugcheck.FastFailCorruptListEntry, addr(e), badLink, 0)
}

// InitializeListHead is InitializeListHead: an empty list.
func InitializeListHead(head *ListEntry) {
	escape(unsafe.Pointer(head))
	head.Flink, head.Blink = addr(head), addr(head)
}

// IsListEmpty is IsListEmpty.
func IsListEmpty(head *ListEntry) bool { return head.Flink == addr(head) }

// InsertHeadList is InsertHeadList: e becomes the first entry.
func InsertHeadList(head, e *ListEntry) {
	escape(unsafe.Pointer(e))
	next := head.Next()
	if next.Blink != addr(head) {
		corrupt(head, next.Blink)
	}
	e.Flink, e.Blink = addr(next), addr(head)
	next.Blink, head.Flink = addr(e), addr(e)
}

// InsertTailList is InsertTailList: e becomes the last entry.
func InsertTailList(head, e *ListEntry) {
	escape(unsafe.Pointer(e))
	prev := head.Prev()
	if prev.Flink != addr(head) {
		corrupt(head, prev.Flink)
	}
	e.Flink, e.Blink = addr(head), addr(prev)
	prev.Flink, head.Blink = addr(e), addr(e)
}

// unlink removes e, whose neighbours have been checked.
func unlink(e *ListEntry) {
	next, prev := e.Next(), e.Prev()
	prev.Flink, next.Blink = addr(next), addr(prev)
}

// check stops the system unless e's neighbours point back at e.
func check(e *ListEntry) {
	if next := e.Next(); next.Blink != addr(e) {
		corrupt(e, next.Blink)
	}
	if prev := e.Prev(); prev.Flink != addr(e) {
		corrupt(e, prev.Flink)
	}
}

// RemoveEntryList is RemoveEntryList: it unlinks e and reports whether the
// list is empty afterwards. e's own links are left as they were, so a
// second remove of e fails the check (NT's "double remove").
func RemoveEntryList(e *ListEntry) (empty bool) {
	check(e)
	next := e.Flink
	unlink(e)
	return next == e.Blink
}

// RemoveHeadList is RemoveHeadList: it unlinks and returns the first entry;
// on an empty list it returns head itself, as NT's does (callers test
// IsListEmpty first, or compare the result with the head).
func RemoveHeadList(head *ListEntry) *ListEntry {
	if IsListEmpty(head) {
		return head
	}
	e := head.Next()
	if e.Blink != addr(head) {
		corrupt(e, e.Blink)
	}
	check(e)
	unlink(e)
	return e
}

// RemoveTailList is RemoveTailList: it unlinks and returns the last entry,
// or head itself on an empty list, as NT's does.
func RemoveTailList(head *ListEntry) *ListEntry {
	if IsListEmpty(head) {
		return head
	}
	e := head.Prev()
	if e.Flink != addr(head) {
		corrupt(e, e.Flink)
	}
	check(e)
	unlink(e)
	return e
}

// PushEntryList is PushEntryList: e becomes the first entry.
func PushEntryList(head, e *SingleListEntry) {
	escape(unsafe.Pointer(e))
	e.Next, head.Next = head.Next, addr(e)
}

// PopEntryList is PopEntryList: it unlinks and returns the first entry, or
// nil if the list is empty.
func PopEntryList(head *SingleListEntry) *SingleListEntry {
	first := at[SingleListEntry](head.Next)
	if first != nil {
		head.Next = first.Next
	}
	return first
}

// ContainingRecord is CONTAINING_RECORD: the T whose field at offset (from
// unsafe.Offsetof) is the link e. A nil e gives nil.
//
//	req := list.ContainingRecord[request](e, unsafe.Offsetof(request{}.Link))
func ContainingRecord[T, E any](e *E, offset uintptr) *T {
	if e == nil {
		return nil
	}
	return (*T)(unsafe.Add(unsafe.Pointer(e), -int(offset)))
}
