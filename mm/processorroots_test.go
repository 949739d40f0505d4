package mm_test

// Each processor's own PML4 (processorroots.go): on real processors, every
// one reads a number of its own from the self-map entry of the PML4 it
// runs on, and a PML4 entry made or cleared on one processor is made or
// cleared in every processor's PML4.

import (
	"sync/atomic"
	"testing"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/layout"
	"ntgo/mm/pte"
	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

// What recordNumber saw on the processors it ran on: their numbers, how
// many self-map entries did not name the PML4 in CR3, how many ran.
var numbersSeen, rootsWrong, visits atomic.Uint64

//go:nosplit
func recordNumber(uintptr) uintptr {
	visits.Add(1)
	numbersSeen.Or(1 << (uint(ke.CurrentProcessorNumber()) % 64))
	self := entryAt(pte.SelfMapEntryAddress)
	if uint64(self.Frame().Addr()) != uint64(arch.ReadCR3())&^0xFFF {
		rootsWrong.Add(1)
	}
	return 0
}

// entryAt loads the page-table entry at self-map address va.
//
//go:nosplit
func entryAt(va uintptr) pte.PTE { return *(*pte.PTE)(unsafe.Add(unsafe.Pointer(nil), va)) }

func TestEachProcessorHasItsOwnNumber(t *testing.T) {
	requireBare(t)
	numbersSeen.Store(0)
	rootsWrong.Store(0)
	visits.Store(0)
	ke.IpiGenericCall(recordNumber, 0)
	n := int(ke.QueryActiveProcessorCountEx(ke.AllProcessorGroups))
	if visits.Load() != uint64(n) || numbersSeen.Load() != 1<<n-1 || rootsWrong.Load() != 0 {
		t.Errorf("%d processors ran, numbers seen %#b, %d self-map entries not naming CR3's PML4; want %d, %#b, 0",
			visits.Load(), numbersSeen.Load(), rootsWrong.Load(), n, uint64(1)<<n-1)
	}
}

func TestPML4EntryReachesEveryProcessor(t *testing.T) {
	requireBare(t)
	// A page in a PML4 slot nothing else uses, mapping the frame of a page
	// of ours with a known word in it.
	const word = 0x9e4ce55095
	va := layout.UnusedSystemSpaceStart
	if e := entryAt(pte.PxeAddress(va)); e != 0 {
		t.Fatalf("the PML4 entry for %#x is %v already", va, e)
	}
	p := mm.AllocateContiguousMemory(1<<12, ^uint64(0))
	if p == nil {
		t.Fatal("no contiguous memory")
	}
	defer mm.FreeContiguousMemory(p)
	*(*uint64)(p) = word
	leaf, st := mm.Tables.Leaf(uintptr(p))
	if !st.IsSuccess() {
		t.Fatal("the page has no leaf")
	}
	if st := mm.Tables.Map(va, leaf.Frame(), pte.ProtReadWrite, pte.Cached); !st.IsSuccess() {
		t.Fatalf("Map: %v", st)
	}
	// Every processor reads through the new entry (one missing it faults
	// at IPI_LEVEL and stops the system).
	for cpus, cpu := probeAll(va), 0; cpus != 0; cpus, cpu = cpus>>1, cpu+1 {
		if cpus&1 != 0 && probed[cpu] != word {
			t.Errorf("processor %d read %#x through the new PML4 entry, want %#x", cpu, probed[cpu], word)
		}
	}
	if _, st := mm.Tables.Unmap(va, nil); !st.IsSuccess() {
		t.Fatalf("Unmap: %v", st)
	}
	// The tables under it are freed, so the entry is zero again, in every
	// processor's PML4.
	for cpus, cpu := probeAll(pte.PxeAddress(va)), 0; cpus != 0; cpus, cpu = cpus>>1, cpu+1 {
		if cpus&1 != 0 && probed[cpu] != 0 {
			t.Errorf("processor %d's PML4 entry for %#x is %v after the unmap, want 0", cpu, va, pte.PTE(probed[cpu]))
		}
	}
}
