package kernel

// The per-CPU trap stacks after boot: each on system PTEs, its pages
// resident, an unmapped guard page below, and the TSS and KPCR pointing at
// its top. (Running into a guard page stops the machine: the console
// test TestBugchecks/stack-overflow shows that screen.)

import (
	"encoding/binary"
	"testing"

	"ntgo/mm"
	"ntgo/mm/layout"
	"ntgo/mm/physmem"
	"ntgo/nt/arch"
)

func TestTrapStacksLiveOnSystemPtesWithGuardPages(t *testing.T) {
	if !arch.Bare() {
		t.Skip("the trap stacks are the kernel's")
	}
	for cpu := uint32(0); cpu < startedProcessors(); cpu++ {
		testProcessorStacks(t, cpu)
	}
}

func testProcessorStacks(t *testing.T, cpu uint32) {
	for i, d := range kernelStacks {
		s := cpuStacks[cpu][i]
		if r, _ := layout.Find(s.Guard); r.ID != layout.SystemPtes {
			t.Errorf("processor %d: %s stack: guard %#x is in %s, not the system PTEs", cpu, d.name, s.Guard, r.Name)
		}
		if s.Size() != d.size || s.Base != s.Guard+physmem.PageSize {
			t.Errorf("processor %d: %s stack: [%#x, %#x) below guard %#x, want %#x bytes right above it", cpu, d.name, s.Base, s.Top, s.Guard, d.size)
		}
		if _, mapped := mm.Tables.Translate(s.Guard); mapped {
			t.Errorf("processor %d: %s stack: guard page %#x is mapped", cpu, d.name, s.Guard)
		}
		for va := s.Base; va < s.Top; va += physmem.PageSize {
			if _, mapped := mm.Tables.Translate(va); !mapped {
				t.Errorf("processor %d: %s stack: page %#x is not resident", cpu, d.name, va)
			}
		}
		var top uintptr
		if d.ist != 0 {
			top = uintptr(binary.LittleEndian.Uint64(tsss[cpu][tssIST1+8*(d.ist-1):]))
		} else {
			top = kpcrs[cpu].SyscallStack
		}
		if top != s.Top {
			t.Errorf("processor %d: %s stack: the CPU uses top %#x, the table says %#x", cpu, d.name, top, s.Top)
		}
	}
}
