// The secure pools' writable alias.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// It runs under an interrupt-disabling spin lock.
//
// A secure pool's pages are mapped read-only; the only writable mapping
// of one of their frames is this processor's alias slot in hyperspace,
// made by secureWrite for one copy and returned to the reserved PTE (its
// TLB entry flushed by Replace) before the lock is released. With
// interrupts off nothing else runs on this processor while the alias is
// mapped, so no writable mapping of a secure page outlives the call, and
// the slot is this processor's alone.

package mm

import (
	"unsafe"

	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/securepool"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
)

// aliasLock guards the alias slot.
var aliasLock ke.SpinLock

// secureWrite copies each run to its offset in page, a page of a secure
// pool, through the alias. A page that is not mapped is a caller's bug
// that would otherwise write to frame 0: MEMORY_MANAGEMENT 0x411, before
// the lock is taken.
//
//go:nosplit
func secureWrite(page uintptr, runs []securepool.Run) {
	leaf, _ := Tables.Leaf(page)
	if !leaf.Valid() {
		bugcheck.KeBugCheckEx(bugcheck.MemoryManagement, pte.CorruptPte, pte.PteAddress(page), uintptr(leaf), 0)
	}
	aliasLock.Acquire()
	dst := hyperMap(hyperSlotAlias, leaf.Frame())
	for i := range runs {
		copy(dst[runs[i].Off&physmem.PageMask:], runs[i].Data)
	}
	hyperUnmap(hyperSlotAlias)
	aliasLock.Release()
}

// secureRead copies the bytes at va into dst through the read-only mapping.
//
//go:nosplit
func secureRead(va uintptr, dst []byte) {
	copy(dst, unsafe.Slice((*byte)(virtual(va)), len(dst)))
}

// aliasIdle reports whether every processor's alias slot holds the
// reserved PTE (the in-kernel tests check it after every secure-pool call).
//
//go:nosplit
func aliasIdle() bool {
	for cpu := uintptr(0); cpu < ke.MaximumProcessors; cpu++ {
		if e, _ := Tables.Leaf(hyperSlotOf(cpu, hyperSlotAlias)); e != pte.Reserved {
			return false
		}
	}
	return true
}
