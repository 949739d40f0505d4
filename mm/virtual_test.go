package mm_test

// Reserve, commit, decommit, release and protect on the kernel's dynamic VA,
// on the machine: demand-zero pages get frames from the PFN database at
// their first touch and give them back on decommit, and each misuse is the
// bugcheck or the raise NT gives it. (The rules themselves are host-tested
// in mm/va over simulated memory.)

import (
	"testing"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/va"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

const page = uintptr(physmem.PageSize)

// at turns an address that never was a Go pointer into one.
func at(addr uintptr) *uint64 { return *(**uint64)(unsafe.Pointer(&addr)) }

// frameState is the PFN state of the frame mapping va, false if none does.
func frameState(t *testing.T, addr uintptr) (pfn.State, bool) {
	t.Helper()
	e, st := mm.Tables.Leaf(addr)
	if st != ntstatus.Success || !e.Valid() {
		return 0, false
	}
	info, ok := mm.PFN.Decode(e.Frame())
	if !ok {
		t.Fatalf("PTE of %#x names frame %#x beyond the database", addr, e.Frame())
	}
	return info.State, true
}

func allocate(t *testing.T, size uintptr, typ va.AllocationType, protect va.PageProtection) uintptr {
	t.Helper()
	base, got, st := mm.AllocateVirtualMemory(0, size, typ, protect)
	if st != ntstatus.Success || got != size {
		t.Fatalf("allocate %#x: %#x bytes, %v", size, got, st)
	}
	t.Cleanup(func() { mm.FreeVirtualMemory(base, 0, va.MemRelease) })
	return base
}

func TestCommitIsDemandZero(t *testing.T) {
	requireBare(t)
	const pages = 4
	base := allocate(t, pages*page, va.MemReserve|va.MemCommit, va.PageReadWrite)
	for i := range uintptr(pages) {
		if _, ok := frameState(t, base+i*page); ok {
			t.Fatalf("page %d has a frame before its first touch", i)
		}
		if v := *at(base + i*page); v != 0 {
			t.Fatalf("page %d reads %#x, not zero", i, v)
		}
		*at(base + i*page + 8) = uint64(i) + 1
		if s, ok := frameState(t, base+i*page); !ok || s != pfn.StateActive {
			t.Fatalf("page %d after touch: frame state %v, mapped %v", i, s, ok)
		}
	}
	for i := range uintptr(pages) {
		if v := *at(base + i*page + 8); v != uint64(i)+1 {
			t.Fatalf("page %d lost its contents: %#x", i, v)
		}
	}
	frame, _ := mm.Tables.Leaf(base)
	if _, _, st := mm.FreeVirtualMemory(base, pages*page, va.MemDecommit); st != ntstatus.Success {
		t.Fatal(st)
	}
	if _, ok := frameState(t, base); ok {
		t.Fatal("decommitted page still mapped")
	}
	if info, _ := mm.PFN.Decode(frame.Frame()); info.State == pfn.StateActive && info.Pte == pte.PteAddress(base) {
		t.Fatalf("decommit kept the frame: %+v", info)
	}
	// Recommitted, the page reads zero again.
	if _, _, st := mm.AllocateVirtualMemory(base, page, va.MemCommit, va.PageReadWrite); st != ntstatus.Success {
		t.Fatal(st)
	}
	if v := *at(base + 8); v != 0 {
		t.Fatalf("recommitted page reads %#x", v)
	}
}

// A reserved page is not memory: touching it is PAGE_FAULT_IN_NONPAGED_AREA
// (0x50) with the address, and so is a released one.
func TestReservedAndReleasedPagesBugcheck(t *testing.T) {
	requireBare(t)
	base, _, st := mm.AllocateVirtualMemory(0, va.AllocationGranularity, va.MemReserve, va.PageReadWrite)
	if st != ntstatus.Success {
		t.Fatal(st)
	}
	touch := func() { *at(base + page) = 1 }
	if rec := bugcheck.Catch(touch); rec == nil || rec.Code != bugcheck.PageFaultInNonpagedArea || rec.Params[0] != base+page || rec.Params[1] != 1 {
		t.Fatalf("write to a reserved page: %v", rec)
	}
	if _, _, st := mm.FreeVirtualMemory(base, 0, va.MemRelease); st != ntstatus.Success {
		t.Fatal(st)
	}
	if rec := bugcheck.Catch(touch); rec == nil || rec.Code != bugcheck.PageFaultInNonpagedArea || rec.Params[0] != base+page {
		t.Fatalf("write to a released page: %v", rec)
	}
}

// Read-only after ZwProtectVirtualMemory: a write is
// ATTEMPTED_WRITE_TO_READONLY_MEMORY (0xBE); reads still work.
func TestProtectReadOnly(t *testing.T) {
	requireBare(t)
	base := allocate(t, page, va.MemReserve|va.MemCommit, va.PageReadWrite)
	*at(base) = 42
	old, st := mm.ProtectVirtualMemory(base, page, va.PageReadOnly)
	if st != ntstatus.Success || old != va.PageReadWrite {
		t.Fatalf("protect: old %v, %v", old, st)
	}
	if *at(base) != 42 {
		t.Fatal("contents changed by protect")
	}
	if rec := bugcheck.Catch(func() { *at(base) = 1 }); rec == nil || rec.Code != bugcheck.AttemptedWriteToReadonlyMemory || rec.Params[0] != base {
		t.Fatalf("write to a read-only page: %v", rec)
	}
}

// A guard page raises STATUS_GUARD_PAGE_VIOLATION once inside Try, then is
// an ordinary page.
func TestGuardPageIsOneShot(t *testing.T) {
	requireBare(t)
	base := allocate(t, page, va.MemReserve|va.MemCommit, va.PageReadWrite|va.PageGuard)
	var raised *ntstatus.Exception
	if ntstatus.Try(func() { *at(base) = 7 }, func(e *ntstatus.Exception) { raised = e }) {
		t.Fatal("first touch of a guard page did not raise")
	}
	if raised.Status != ntstatus.GuardPageViolation || raised.Address != base {
		t.Fatalf("raised %v", raised)
	}
	if !ntstatus.Try(func() { *at(base) = 7 }, nil) || *at(base) != 7 {
		t.Fatal("second touch of a former guard page failed")
	}
}
