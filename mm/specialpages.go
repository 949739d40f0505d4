// Special pool's pages (mm/verifier's Pages) over the kernel's page
// tables: each page of a special-pool block is backed as pool pages are
// (poolpages.go: a frame at once, or a demand-zero PTE for paged pool)
// and cleared when the block is freed, under kernelSpace. Guard pages and
// freed pages are simply never mapped: a touch finds no PTE, and the
// page-fault path asks the verifier which stop that is.

package mm

import (
	"unsafe"

	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/ke"
)

// SpecialPages is the kernel's verifier.Pages.
type SpecialPages struct{}

// Map implements verifier.Pages.
func (*SpecialPages) Map(va uintptr, paged bool) bool {
	kernelSpace.Lock()
	defer kernelSpace.Unlock()
	if !backPage(va, pte.ProtReadWrite, paged, ke.GetCurrentNodeNumber(), false) {
		return false
	}
	committedPages.Add(1)
	return true
}

// Unmap implements verifier.Pages.
func (*SpecialPages) Unmap(va uintptr) {
	kernelSpace.Lock()
	defer kernelSpace.Unlock()
	unbackPage(va)
	committedPages.Add(-1)
}

// Page implements verifier.Pages: the page is mapped at va.
func (*SpecialPages) Page(va uintptr) *[physmem.PageSize]byte {
	return (*[physmem.PageSize]byte)(unsafe.Add(unsafe.Pointer(nil), va))
}
