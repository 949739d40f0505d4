// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The Go runtime's mmap, munmap, mprotect and madvise, translated from Linux's
// arguments to the memory manager's (mm/runtime_trap.go), which owns the
// address space, the page tables and the frames.

package kernel

import (
	"syscall"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

// Linux mmap protection and flag bits the runtime uses.
const (
	protRead     = 0x1
	protWrite    = 0x2
	protExec     = 0x4
	mapFixed     = 0x10
	mapAnonymous = 0x20
)

// Linux madvise advice values.
const (
	madvDontNeed = 4
	madvFree     = 8
)

// protection is the NT page protection for a Linux prot, 0 for PROT_NONE.
// Write implies read, as on x86 hardware.
//
//go:nosplit
func protection(prot uintptr) pte.Protection {
	switch {
	case prot&(protRead|protWrite|protExec) == 0:
		return 0
	case prot&protWrite != 0 && prot&protExec != 0:
		return pte.ProtExecuteReadWrite
	case prot&protWrite != 0:
		return pte.ProtReadWrite
	case prot&protExec != 0:
		return pte.ProtExecuteRead
	}
	return pte.ProtReadOnly
}

// statusErrno maps the memory manager's statuses to mmap's errnos.
//
//go:nosplit
func statusErrno(st ntstatus.Status) uintptr {
	if st == ntstatus.InvalidParameter {
		return errno(syscall.EINVAL)
	}
	return errno(syscall.ENOMEM)
}

//go:nosplit
func sysMmap(addr, length, prot, flags uintptr, fd int32) uintptr {
	if flags&mapAnonymous == 0 || fd != -1 {
		return errno(syscall.ENODEV)
	}
	va, st := mm.RuntimeMap(addr, length, protection(prot), flags&mapFixed != 0)
	if st != ntstatus.Success {
		return statusErrno(st)
	}
	return va
}

//go:nosplit
func sysMunmap(addr, length uintptr) uintptr {
	if st := mm.RuntimeUnmap(addr, length); st != ntstatus.Success {
		return statusErrno(st)
	}
	return 0
}

//go:nosplit
func sysMprotect(addr, length, prot uintptr) uintptr {
	if st := mm.RuntimeProtect(addr, length, protection(prot)); st != ntstatus.Success {
		return statusErrno(st)
	}
	return 0
}

//go:nosplit
func sysMadvise(addr, length, advice uintptr) uintptr {
	if advice == madvDontNeed || advice == madvFree {
		mm.RuntimeDiscard(addr, length)
	}
	return 0
}

// unsafePointerAt turns an address that never was a Go pointer (a device
// register, a caller's buffer passed as a system-call argument) into a
// pointer; the indirection keeps vet's unsafe.Pointer check for real misuse.
//
//go:nosplit
func unsafePointerAt(addr uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&addr))
}
