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
	for _, s := range kernelStacks {
		if r, _ := layout.Find(s.Guard); r.ID != layout.SystemPtes {
			t.Errorf("%s stack: guard %#x is in %s, not the system PTEs", s.name, s.Guard, r.Name)
		}
		if s.Size() != s.size || s.Base != s.Guard+physmem.PageSize {
			t.Errorf("%s stack: [%#x, %#x) below guard %#x, want %#x bytes right above it", s.name, s.Base, s.Top, s.Guard, s.size)
		}
		if _, mapped := mm.Tables.Translate(s.Guard); mapped {
			t.Errorf("%s stack: guard page %#x is mapped", s.name, s.Guard)
		}
		for va := s.Base; va < s.Top; va += physmem.PageSize {
			if _, mapped := mm.Tables.Translate(va); !mapped {
				t.Errorf("%s stack: page %#x is not resident", s.name, va)
			}
		}
		var top uintptr
		if s.ist != 0 {
			top = uintptr(binary.LittleEndian.Uint64(tss[tssIST1+8*(s.ist-1):]))
		} else {
			top = kpcr0.SyscallStack
		}
		if top != s.Top {
			t.Errorf("%s stack: the CPU uses top %#x, the table says %#x", s.name, top, s.Top)
		}
	}
}
