// Physical access for the boot phase.
//
// Until Boot loads its own CR3, the boot entry's identity map covers the low
// 4 GiB, so a frame is reached at its physical address. bootMemory gives the
// PFN database frame contents that way, and bootTables lets the walker
// build the new hierarchy, which is not live yet and so has no self-map, by
// following physical addresses down from its root. Both are used only
// inside Boot, before the Go runtime starts: nosplit, static memory only.

package mm

import (
	"unsafe"

	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

// identityLimit is the end of the boot identity map.
const identityLimit = 4 << 30

// physical turns an identity-mapped physical address into a pointer; the
// address never was a Go pointer.
//
//go:nosplit
func physical(pa uint64) unsafe.Pointer {
	if pa >= identityLimit {
		bootFail(ntstatus.InvalidAddress, uintptr(pa))
	}
	return unsafe.Add(unsafe.Pointer(nil), uintptr(pa))
}

//go:nosplit
func frameBytes(p physmem.PFN) *[physmem.PageSize]byte {
	return (*[physmem.PageSize]byte)(physical(p.Addr()))
}

// bootMemoryAccess is physmem.Memory over the identity map.
type bootMemoryAccess struct{}

//go:nosplit
func (*bootMemoryAccess) ZeroFrame(p physmem.PFN) { clear(frameBytes(p)[:]) }

//go:nosplit
func (*bootMemoryAccess) CopyFrame(dst, src physmem.PFN) { *frameBytes(dst) = *frameBytes(src) }

//go:nosplit
func (*bootMemoryAccess) Load64(pa uint64) uint64 { return *(*uint64)(physical(pa)) }

//go:nosplit
func (*bootMemoryAccess) Store64(pa uint64, v uint64) { *(*uint64)(physical(pa)) = v }

// physicalTables is pte.Tables for a hierarchy reached from its root frame
// by physical address.
type physicalTables struct{ root physmem.PFN }

type tablePage = [pte.EntriesPerTable]pte.PTE

// entry follows va's path from the root down to level l. The walker only
// asks for a level whose parents are present.
//
//go:nosplit
func (t *physicalTables) entry(l pte.Level, va uintptr) *pte.PTE {
	table := (*tablePage)(physical(t.root.Addr()))
	for level := pte.PML4; level != l; level-- {
		table = (*tablePage)(physical(table[level.Index(va)].Frame().Addr()))
	}
	return &table[l.Index(va)]
}

//go:nosplit
func (t *physicalTables) Load(l pte.Level, va uintptr) pte.PTE { return *t.entry(l, va) }

//go:nosplit
func (t *physicalTables) Store(l pte.Level, va uintptr, e pte.PTE) { *t.entry(l, va) = e }

// bootFlusher flushes nothing: the hierarchy being built is not live.
type bootFlusher struct{}

//go:nosplit
func (*bootFlusher) FlushPage(uintptr) {}

//go:nosplit
func (*bootFlusher) FlushAll() {}

var (
	bootMemory  bootMemoryAccess
	bootWalk    physicalTables
	bootFlushes bootFlusher
)
