// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The pool-page counts a stop reads (NO_PAGES_AVAILABLE's parameters,
// paging_trap.go): the in-use bitmap's atomics, no lock.

package mm

import "math/bits"

// InUse is how many pages are handed out.
//
//go:nosplit
func (s *PoolPages) InUse() int {
	n := 0
	for i := range s.inUse {
		n += bits.OnesCount64(s.inUse[i].Load())
	}
	return n
}
