// MmMapIoSpace, MmUnmapIoSpace, and the system PTEs behind them.
//
// Device registers and other physical ranges are mapped on demand into the
// system PTE region (mm/va.SystemPtes: runs with an unmapped guard page
// after each). The SystemPtes is built by InitSystem (init.go), once the
// Go heap exists; its edits hold kernelSpace.

package mm

import (
	"ntgo/mm/layout"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/va"
	"ntgo/nt/ntstatus"
)

// systemPtePages is how much of the system PTE region ntgo manages: 1 GiB
// of mappings, far beyond what the drivers here map, and a single run in
// the free list until they do.
const systemPtePages = 1 << 30 / physmem.PageSize

// SystemPtes hands out the system PTE region.
var SystemPtes *va.SystemPtes

// initSystemPtes builds SystemPtes over NT's system PTE region.
func initSystemPtes() {
	s, st := va.NewSystemPtes(&Tables, layout.SystemPtesStart, systemPtePages)
	if st != ntstatus.Success {
		panic("mm: system PTE region: " + st.String())
	}
	SystemPtes = s
}

// MapIoSpace is MmMapIoSpace: it maps size bytes of physical address space
// from pa, read-write and not executable, with cache type c, and returns the
// virtual address of pa, or 0 when system PTEs or table frames run out.
func MapIoSpace(pa uint64, size uintptr, c pte.CacheType) uintptr {
	kernelSpace.Lock()
	defer kernelSpace.Unlock()
	return SystemPtes.MapIoSpace(pa, size, c)
}

// UnmapIoSpace is MmUnmapIoSpace: it undoes MapIoSpace(_, size, _) = va.
// An address or size MapIoSpace did not return is SYSTEM_PTE_MISUSE.
func UnmapIoSpace(va uintptr, size uintptr) {
	kernelSpace.Lock()
	defer kernelSpace.Unlock()
	SystemPtes.UnmapIoSpace(va, size)
}
