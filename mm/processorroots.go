// Each processor's own PML4.
//
// ke reads the current processor's number with one load from a fixed
// address (ke.CurrentProcessorNumber): the self-map entry, which every
// processor sees at pte.SelfMapEntryAddress in the PML4 it runs on. So
// each processor runs on a PML4 of its own: the boot processor on the one
// Boot built, every other on a copy made before it starts (ProcessorRoot),
// whose self-map entry points the copy at itself and carries the
// processor's number (pte.ProcessorSelfMapEntry). Every table below the
// PML4 is shared, so a change below the PML4 is seen by all processors
// as before; a change to a PML4 entry is written into every copy by the
// walker's Tables (pte.SelfMap.Store), which reaches each through a
// system-PTE mapping made here and kept for good. NT's processors share
// one PML4 per process and find their KPCR through GS; a GS-relative load
// needs assembly, which Go cannot inline, and a call costs ~45 ns under
// TCG on every pool allocation.
//
// Locking: a copy is made and recorded holding kernelSpace and tableLock,
// the two locks PML4 entries are written under (mm.go), so no entry
// changes between the copy and its recording. Processors start one at a
// time (kernel/smp.go), so calls do not overlap.

package mm

import (
	"fmt"

	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/ke"
)

// ProcessorRoot makes processor cpu's PML4, a copy of the current one, and
// returns the CR3 value that processor starts with.
func ProcessorRoot(cpu int) (uintptr, error) {
	if cpu <= 0 || cpu >= ke.MaximumProcessors {
		return 0, fmt.Errorf("processor %d has no PML4 of its own to make", cpu)
	}
	if bootRootVA == 0 {
		if bootRootVA = MapIoSpace(bootWalk.root.Addr(), physmem.PageSize, pte.Cached); bootRootVA == 0 {
			return 0, fmt.Errorf("no system PTE to map the boot processor's PML4")
		}
		addRoot(bootRootVA, bootWalk.root, 0)
	}
	root, ok := PFN.AllocateZeroed(0, 0)
	if !ok {
		return 0, fmt.Errorf("no frame for processor %d's PML4", cpu)
	}
	va := MapIoSpace(root.Addr(), physmem.PageSize, pte.Cached)
	if va == 0 {
		PFN.Free(root, 0)
		return 0, fmt.Errorf("no system PTE to map processor %d's PML4", cpu)
	}
	addRoot(va, root, cpu)
	return uintptr(root.Addr()), nil
}

// addRoot records the PML4 in frame root, mapped at va, for the walker to
// keep equal, having first made it a copy of the current one for cpu when
// cpu is not the boot processor, whose own it is.
func addRoot(va uintptr, root physmem.PFN, cpu int) {
	kernelSpace.Lock()
	tableLock.Acquire()
	if cpu != 0 {
		copyRootLocked(va, root, cpu)
	}
	selfMap.AddRoot(va)
	tableLock.Release()
	kernelSpace.Unlock()
}

// bootRootVA is where the boot processor's PML4 is mapped for
// pte.SelfMap.Store, once a second processor starts.
var bootRootVA uintptr
