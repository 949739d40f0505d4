// INSTALL_MORE_MEMORY: a machine with too little RAM for what it must run.
//
// NT stops the boot with INSTALL_MORE_MEMORY (0x7D) when it finds less
// physical memory than it needs, with the pages found and the lowest and
// highest physical page as parameters. ntgo needs memory per processor
// (trap stacks, an idle stack, and the Go runtime's threads that start to
// run there), so the kernel asks before each application processor starts
// and once all have (EnoughMemory); without the check a small machine
// with many processors boots and then stops with a page fault the Go heap
// cannot satisfy (0x7A, STATUS_NO_MEMORY), which names no cause.

package mm

import (
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/nt/bugcheck"
)

// EnoughMemory reports whether the frames available leave the pager its
// fault reserve and extra pages more: what every fault outside paged pool
// may need once the system runs.
func EnoughMemory(extra uint64) bool {
	return PFN.Stats().Available() >= uint64(SystemPager().Reserve)+extra
}

// InstallMoreMemory stops the system with INSTALL_MORE_MEMORY: the RAM pages
// found, and the lowest and highest physical page of RAM in the boot memory
// map.
func InstallMoreMemory() {
	lowest, highest := ^uint64(0), uint64(0)
	for _, r := range memoryMap[:memoryMapN] {
		if r.Type == pfn.RangeReserved || r.Length == 0 {
			continue
		}
		lowest = min(lowest, r.Base/physmem.PageSize)
		highest = max(highest, (r.Base+r.Length)/physmem.PageSize-1)
	}
	if lowest > highest {
		lowest = 0
	}
	bugcheck.KeBugCheckEx(bugcheck.InstallMoreMemory, uintptr(PFN.Stats().RAM()), uintptr(lowest), uintptr(highest), 0)
}
