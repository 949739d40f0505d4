// The secure pools' pages on the machine: securepool.Pages over the
// secure-pool region of the layout (mm/layout).
//
// Pages come from a PoolPages over the region whose PTEs are read-only and
// no-execute, backed by PFN-database frames at once (secure memory is
// resident, and counts in the commit charge as pool pages do); writes go
// through the per-processor alias (securealias_trap.go). CR0.WP, which the
// boot trampoline sets before paging is on (boot/image), holds ring 0 to
// the read-only bit, so a write through the ordinary mapping faults and
// the page-fault path stops with ATTEMPTED_WRITE_TO_READONLY_MEMORY.
//
// Locking: the PoolPages' (kernelSpace) for the mappings; the alias lock
// for writes. The secure-pool System serializes its own calls.

package mm

import (
	"ntgo/mm/layout"
	"ntgo/mm/securepool"
	"ntgo/nt/arch"
)

// SecurePages is securepool.Pages on the machine.
type SecurePages struct{ pages *PoolPages }

// cr0WP is CR0's write-protect bit.
const cr0WP = 1 << 16

// newSecurePages manages maxBytes of the secure-pool region.
func newSecurePages(maxBytes uintptr) *SecurePages {
	p := NewPoolPages(layout.SecurePoolStart, maxBytes, false)
	p.readOnly = true
	return &SecurePages{pages: p}
}

func (s *SecurePages) AllocPages(n int) (uintptr, bool)          { return s.pages.AllocPages(n, false) }
func (s *SecurePages) FreePages(va uintptr, n int)               { s.pages.FreePages(va, n) }
func (s *SecurePages) Region() (uintptr, uintptr)                { return s.pages.Region() }
func (s *SecurePages) Write(page uintptr, runs []securepool.Run) { secureWrite(page, runs) }
func (s *SecurePages) Read(va uintptr, dst []byte)               { secureRead(va, dst) }

// InUse is how many secure pages are mapped.
func (s *SecurePages) InUse() int { return s.pages.InUse() }

// WriteProtected reports whether CR0.WP is on: without it ring 0 writes
// through read-only PTEs and the secure pools protect nothing.
func WriteProtected() bool { return arch.ReadCR0()&cr0WP != 0 }

// SecureAliasIdle reports whether no writable alias of a secure page is
// mapped (tests).
func SecureAliasIdle() bool { return aliasIdle() }

// securePoolShare is the part of RAM the secure pools may take (one
// sixteenth: they hold a driver's few secrets, not its buffers).
const securePoolShare = 16

// SecurePoolPages is the kernel's secure pages, nil before the pools exist.
func SecurePoolPages() *SecurePages { return securePages }

var securePages *SecurePages
