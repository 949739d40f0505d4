// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Thread affinity, Linux's sched_getaffinity/sched_setaffinity for one
// thread (pid 0 is the caller, otherwise a TID): the mask is a thread's
// Affinity (sched_trap.go says how the scheduler keeps it) as a bitmap of
// processor numbers. A mask that names no online processor is EINVAL, as
// on Linux; a thread moved off the processor it runs on leaves it at this
// trap's exit.

package kernel

import "syscall"

//go:nosplit
func sysGetAffinity(tid, size, mask uintptr) uintptr {
	if size < 8 {
		return errno(syscall.EINVAL)
	}
	t := threadByTID(tid)
	if t == noThread {
		return errno(syscall.ESRCH)
	}
	online := onlineMask.Load() | 1
	a := threads[t].Affinity & online
	if a == 0 {
		a = online
	}
	clear(bytesAt(mask, size))
	*(*uint64)(unsafePointerAt(mask)) = a
	return 8
}

//go:nosplit
func sysSetAffinity(tid, size, mask uintptr) uintptr {
	if size < 8 {
		return errno(syscall.EINVAL)
	}
	t := threadByTID(tid)
	if t == noThread || threads[t].Idle {
		return errno(syscall.ESRCH)
	}
	online := onlineMask.Load() | 1
	a := *(*uint64)(unsafePointerAt(mask)) & online
	if a == 0 {
		return errno(syscall.EINVAL)
	}
	if a == online {
		a = 0
	}
	threads[t].Affinity = a
	return 0
}

// threadByTID finds a live thread by TID; 0 is the calling thread.
//
//go:nosplit
func threadByTID(tid uintptr) int32 {
	if tid == 0 {
		return currentKPCR().Current
	}
	for i := range threads {
		if threads[i].State != threadFree && uintptr(threads[i].TID) == tid {
			return int32(i)
		}
	}
	return noThread
}
