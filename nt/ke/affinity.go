// Thread affinity: KeSetSystemAffinityThreadEx and
// KeRevertToUserAffinityThreadEx for the calling goroutine.
//
// NT's thread is the goroutine's OS thread here: setting a system affinity
// locks the goroutine to its thread (runtime.LockOSThread, one per call,
// so nested set/revert pairs balance) and asks the kernel's scheduler,
// through Linux's sched_setaffinity, to run that thread only on the
// processors named. The kernel moves it at the system call's exit, so on
// return the caller runs on one of them, unless it called at
// DISPATCH_LEVEL or above: then, as on NT, the move waits until the IRQL
// drops (the scheduler does not switch threads at raised IRQL).
//
// NT's rules: a mask with a bit for a processor that does not exist, or
// none that is active, changes nothing; the value returned is the previous
// system affinity, or 0 when the thread had none (it ran on every
// processor); reverting to 0 restores every processor.

package ke

import (
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

// systemAffinity holds the threads (by TID) that run with a system
// affinity: NT's thread object keeps that mark, the Linux ABI has no place
// for it, and it tells "no previous system affinity" (0) from a system
// affinity that happens to name every processor.
var systemAffinity struct {
	sync.Mutex
	active map[int]bool
}

func systemAffinityActive(tid int) bool {
	systemAffinity.Lock()
	defer systemAffinity.Unlock()
	return systemAffinity.active[tid]
}

func setSystemAffinityActive(tid int, on bool) {
	systemAffinity.Lock()
	defer systemAffinity.Unlock()
	if systemAffinity.active == nil {
		systemAffinity.active = map[int]bool{}
	}
	if on {
		systemAffinity.active[tid] = true
	} else {
		delete(systemAffinity.active, tid)
	}
}

// KAffinity is KAFFINITY: a bitmap of processor numbers in a group.
type KAffinity uint64

// SetSystemAffinityThreadEx is KeSetSystemAffinityThreadEx.
func SetSystemAffinityThreadEx(affinity KAffinity) KAffinity {
	runtime.LockOSThread()
	tid := syscall.Gettid()
	valid := KAffinity(ActiveProcessors())
	var prev KAffinity
	if systemAffinityActive(tid) {
		prev = threadAffinity() & valid
	}
	if affinity&^valid == 0 && affinity != 0 {
		setThreadAffinity(affinity)
		setSystemAffinityActive(tid, true)
	}
	return prev
}

// RevertToUserAffinityThreadEx is KeRevertToUserAffinityThreadEx: back to
// affinity, a value SetSystemAffinityThreadEx returned.
func RevertToUserAffinityThreadEx(affinity KAffinity) {
	valid := KAffinity(ActiveProcessors())
	switch {
	case affinity == 0:
		setThreadAffinity(^KAffinity(0)) // every processor (the kernel keeps the online ones)
		setSystemAffinityActive(syscall.Gettid(), false)
	case affinity&^valid == 0:
		setThreadAffinity(affinity)
	}
	runtime.UnlockOSThread()
}

func threadAffinity() KAffinity {
	var mask KAffinity
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask))); e != 0 {
		return KAffinity(ActiveProcessors())
	}
	return mask
}

func setThreadAffinity(mask KAffinity) {
	syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask)))
}
