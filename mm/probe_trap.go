// Probing mappings for the debugger.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The bugcheck screen and
// the kd memory commands must never fault on a bad address, and the screen
// runs when the failing code may hold any lock, so Readable takes none: it
// walks the live tables through the self-map with interrupts off, which on
// one CPU excludes every editor but one preempted half way, and the
// walker's edit order (a table is unlinked from its parent before its frame
// is freed) keeps every state it can see a consistent tree.

package mm

import "ntgo/nt/arch"

// Readable reports whether the page holding va is mapped and present.
//
//go:nosplit
func Readable(va uintptr) bool {
	rflags := arch.DisableInterrupts()
	_, ok := Tables.Translate(va)
	arch.RestoreInterrupts(rflags)
	return ok
}
