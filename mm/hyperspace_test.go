// Each processor maps frames at its own hyperspace slots: a frame mapped
// on processor n is at n's slot, reads the frame's contents, and is at no
// other processor's slot.

package mm

import (
	"testing"
	"unsafe"

	"ntgo/mm/pte"
	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

func TestHyperspaceSlotsArePerProcessor(t *testing.T) {
	if !arch.Bare() {
		t.Skip("needs the kernel's page tables: run with `make ktest PKG=./mm`")
	}
	mem := AllocateContiguousMemory(4096, ^uint64(0))
	if mem == nil {
		t.Fatal("no page")
	}
	defer FreeContiguousMemory(mem)
	page := uintptr(mem)
	*(*uint64)(virtual(page)) = 0x4859_5045_5253_5041 // "APSREPYH"
	leaf, _ := Tables.Leaf(page)
	for n := range ke.QueryActiveProcessorCountEx(ke.AllProcessorGroups) {
		prev := ke.SetSystemAffinityThreadEx(1 << n)
		var got uint64
		var mapped, others int
		rflags := arch.DisableInterrupts()
		cpu := uintptr(ke.CurrentProcessorNumber())
		got = *(*uint64)(unsafe.Pointer(hyperMap(hyperSlotTarget, leaf.Frame())))
		for c := uintptr(0); c < ke.MaximumProcessors; c++ {
			for k := uintptr(0); k < hyperSlots; k++ {
				// Other processors' slots may map other frames meanwhile
				// (the zero-page thread); none may map this one.
				if e, _ := Tables.Leaf(hyperSlotOf(c, k)); e != pte.Reserved && e.Frame() == leaf.Frame() {
					if c == cpu && k == hyperSlotTarget {
						mapped++
					} else {
						others++
					}
				}
			}
		}
		hyperUnmap(hyperSlotTarget)
		arch.RestoreInterrupts(rflags)
		ke.RevertToUserAffinityThreadEx(prev)
		if cpu != uintptr(n) || got != 0x4859_5045_5253_5041 || mapped != 1 || others != 0 {
			t.Errorf("processor %d (ran on %d): read %#x, own slot mapped %d, other slots mapping it %d", n, cpu, got, mapped, others)
		}
	}
}
