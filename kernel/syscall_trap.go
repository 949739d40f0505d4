// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The Linux system calls the Go runtime (and os, fmt, time) makes, served in
// ring 0. Arguments arrive in the trap frame as Linux passes them (RDI, RSI,
// RDX, R10, R8, R9; number in RAX); the result goes back in RAX, negative
// errno on failure. A call that blocks marks the thread and returns; the
// scheduler switches away and the result is written when the thread wakes.
// Pointers from the caller are used directly: there is no user mode, and a
// fault on them is the caller's bug, reported like any kernel fault.

package kernel

import (
	"syscall"
	"unsafe"

	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

// System call numbers are the syscall package's (SYS_*); it stops at
// SYS_PRLIMIT64 (302), so the newer ones the runtime makes are here.
const (
	sysGetrandom = 318 // getrandom(2)
	maxSyscall   = 512
)

//go:nosplit
func syscallTrap(f *TrapFrame) {
	a0, a1, a2, a3 := uintptr(f.RDI), uintptr(f.RSI), uintptr(f.RDX), uintptr(f.R10)
	var r uintptr
	switch f.RAX {
	case syscall.SYS_WRITE:
		r = sysWriteFd(int(a0), a1, a2)
	case syscall.SYS_READ:
		r = sysReadFd(int(a0), a1, a2)
	case syscall.SYS_PREAD64, syscall.SYS_OPEN, syscall.SYS_OPENAT:
		r = errno(syscall.ENOENT)
	case syscall.SYS_CLOSE:
		r = sysCloseFd(int(a0))
	case syscall.SYS_MMAP:
		r = sysMmap(a0, a1, a2, a3, int32(f.R8))
	case syscall.SYS_MUNMAP:
		r = sysMunmap(a0, a1)
	case syscall.SYS_MADVISE:
		r = sysMadvise(a0, a1, a2)
	case syscall.SYS_MPROTECT:
		r = sysMprotect(a0, a1, a2)
	case syscall.SYS_RT_SIGACTION:
		r = sysSigaction(a0, a1, a2)
	case syscall.SYS_RT_SIGPROCMASK:
		r = sysSigprocmask(a0, a1, a2)
	case syscall.SYS_SIGALTSTACK:
		r = sysSigaltstackCall(a0, a1)
	case syscall.SYS_ARCH_PRCTL:
		r = sysArchPrctlCall(a0, a1)
	case syscall.SYS_CLONE:
		r = sysCloneCall(f)
	case syscall.SYS_EXIT:
		sysExitThread()
		return
	case syscall.SYS_EXIT_GROUP:
		stopAtFatalExit(f)
		exitGroup(int(a0))
	case syscall.SYS_FUTEX:
		r = sysFutexCall(a0, a1, a2, a3)
	case syscall.SYS_SCHED_YIELD:
		yield()
	case syscall.SYS_NANOSLEEP:
		r = sysNanosleepCall(a0)
	case syscall.SYS_GETPID:
		r = bootThreadTID
	case syscall.SYS_GETTID:
		r = uintptr(threads[currentKPCR().Current].TID)
	case syscall.SYS_TGKILL:
		r = 0 // signals are not delivered; the runtime falls back to cooperative preemption
	case syscall.SYS_SCHED_GETAFFINITY:
		r = sysGetAffinity(a0, a1, a2)
	case syscall.SYS_SCHED_SETAFFINITY:
		r = sysSetAffinity(a0, a1, a2)
	case syscall.SYS_CLOCK_GETTIME:
		r = sysClockGettimeCall(a0, a1)
	case sysGetrandom:
		r = sysGetrandomCall(a0, a1)
	case syscall.SYS_FCNTL:
		r = sysFcntlCall(int(a0), a1)
	case syscall.SYS_PRLIMIT64:
		r = sysPrlimit(a2, a3)
	case syscall.SYS_PRCTL:
		r = 0
	case syscall.SYS_EPOLL_CREATE1:
		r = epollCreate()
	case syscall.SYS_EPOLL_CTL:
		r = epollCtl(int(a0), a1, int(a2), a3)
	case syscall.SYS_EPOLL_PWAIT:
		r = epollWait(int(a0), a1, a2, int(int32(a3)))
	case syscall.SYS_EVENTFD2:
		r = eventfdCreate(a0)
	default:
		r = errno(syscall.ENOSYS)
		logUnknownSyscall(f.RAX)
	}
	f.RAX = uint64(r)
}

const bootThreadTID = 1

const bitsPerWord = 64

var unknownLogged [maxSyscall / bitsPerWord]uint64

//go:nosplit
func logUnknownSyscall(nr uint64) {
	if nr >= maxSyscall || unknownLogged[nr/bitsPerWord]&(1<<(nr%bitsPerWord)) != 0 {
		return
	}
	unknownLogged[nr/bitsPerWord] |= 1 << (nr % bitsPerWord)
	serialWriteString("ntgo: unimplemented system call ")
	serialWriteString(syscallName(nr))
	serialWriteString(" (")
	printDec(nr)
	serialWriteString(") returns ENOSYS\n")
}

//go:nosplit
func bytesAt(p, n uintptr) []byte { return unsafe.Slice((*byte)(unsafePointerAt(p)), n) }

// Files: 0-2 are the serial console; epoll instances and eventfds come next.
//
//go:nosplit
func sysWriteFd(fd int, buf, n uintptr) uintptr {
	switch {
	case fd == 1 || fd == 2:
		serialWrite(bytesAt(buf, n))
		if fd == 2 {
			noteStderr(bytesAt(buf, n))
		}
		return n
	case isCrashFd(fd):
		return crashWrite(bytesAt(buf, n))
	case isEventfd(fd):
		return eventfdWrite(fd, buf, n)
	}
	return errno(syscall.EBADF)
}

//go:nosplit
func sysReadFd(fd int, buf, n uintptr) uintptr {
	switch {
	case fd == 0:
		return consoleRead(buf, n)
	case isEventfd(fd):
		return eventfdRead(fd, buf, n)
	}
	return errno(syscall.EBADF)
}

//go:nosplit
func sysCloseFd(fd int) uintptr {
	if fd <= 2 || isCrashFd(fd) {
		return 0
	}
	return closeFd(fd)
}

const (
	fGetFl = 3
	oRDWR  = 2
)

//go:nosplit
func sysFcntlCall(fd int, cmd uintptr) uintptr {
	if cmd == fGetFl && fd <= 2 {
		return oRDWR
	}
	if cmd == fDupfdCloexec && isCrashFd(fd) {
		return crashDup(fd)
	}
	return 0
}

// prlimit64: report a fixed descriptor limit; setting is accepted.
//
//go:nosplit
func sysPrlimit(newp, oldp uintptr) uintptr {
	if oldp != 0 {
		lim := (*[2]uint64)(unsafePointerAt(oldp))
		lim[0], lim[1] = 1024, 4096
	}
	return 0
}

const archSetFS = 0x1002

//go:nosplit
func sysArchPrctlCall(code, addr uintptr) uintptr {
	if code != archSetFS {
		return errno(syscall.EINVAL)
	}
	threads[currentKPCR().Current].FSBase = addr
	currentKPCR().ThreadFSBase = addr
	return 0
}

// Clone flags the runtime passes.
const (
	cloneSetTLS = 0x00080000
	cloneVM     = 0x00000100
	cloneThread = 0x00010000
)

//go:nosplit
func sysCloneCall(f *TrapFrame) uintptr {
	flags, stack, tls := uintptr(f.RDI), uintptr(f.RSI), uintptr(f.R8)
	if flags&(cloneVM|cloneThread) != cloneVM|cloneThread {
		return errno(syscall.EINVAL) // only threads: there are no processes
	}
	t := newThread()
	if t == noThread {
		return errno(syscall.EAGAIN)
	}
	th := &threads[t]
	th.Frame = *f
	th.Frame.RAX = 0
	th.Frame.RSP = uint64(stack)
	th.FSBase = threads[currentKPCR().Current].FSBase
	if flags&cloneSetTLS != 0 {
		th.FSBase = tls
	}
	th.SigMask = threads[currentKPCR().Current].SigMask
	enqueueReady(t)
	return uintptr(th.TID)
}

//go:nosplit
func newThread() int32 {
	for i := bootThread + 1; i < maxThreads; i++ {
		if threads[i].State == threadFree {
			threads[i] = Thread{TID: nextTID, Created: nanotime(), next: noThread}
			nextTID++
			return int32(i)
		}
	}
	return noThread
}

//go:nosplit
func sysExitThread() {
	threads[currentKPCR().Current].State = threadFree
}

//go:nosplit
func exitGroup(code int) {
	serialFlush()
	powerOff(uint8(code))
}

// Futex operations (linux/futex.h).
const (
	futexWait        = 0
	futexWake        = 1
	futexPrivateFlag = 128
	futexCmdMask     = ^uintptr(futexPrivateFlag | 256) // also FUTEX_CLOCK_REALTIME
)

//go:nosplit
func sysFutexCall(addr, op, val, timeout uintptr) uintptr {
	switch op & futexCmdMask {
	case futexWait:
		if uintptr(*(*uint32)(unsafePointerAt(addr))) != val&0xFFFFFFFF {
			return errno(syscall.EAGAIN)
		}
		if ke.GetCurrentIrql() >= ke.DispatchLevel && threads[currentKPCR().Current].raised.retry(addr, nanotime()) {
			return 0
		}
		var deadline int64
		if timeout != 0 {
			deadline = nanotime() + timespecNs(timeout)
			noteDeadline(deadline)
		}
		block(waitFutex, addr, deadline)
		return 0
	case futexWake:
		woken := uintptr(0)
		for i := range threads {
			if woken >= val {
				break
			}
			t := &threads[i]
			if t.State == threadBlocked && t.Wait == waitFutex && t.WaitAddr == addr {
				wake(int32(i), 0)
				woken++
			}
		}
		return woken
	}
	return errno(syscall.ENOSYS)
}

// raisedWait follows one thread's futex waits at DISPATCH_LEVEL or above,
// where it may not switch. Such a wait is the runtime's own: one of its
// locks contended by a goroutine at raised IRQL (an allocation there
// meeting the collector's hold of the heap lock), whose holder runs on
// another processor. Futex allows a spurious wake-up, and the runtime
// then tries the lock again, so the wait returns at once — the thread
// spins, as on a spin lock — until the retries on one word have gone on
// for maxRaisedWait: then it blocks, a switch at raised IRQL, which stops
// with ATTEMPTED_SWITCH_FROM_DPC (a holder that needs this processor, as
// on a uniprocessor, would never come).
type raisedWait struct {
	addr        uintptr
	since, seen int64 // nanotime of the episode's first and latest retry
}

const (
	maxRaisedWait = 1_000_000_000 // 1 s: a TCG vCPU can lose its host core for tens of ms
	// A retry later than this after the last one begins a new episode
	// (the runtime retries within microseconds).
	raisedWaitGap = 5_000_000
)

// retry reports whether a wait on addr at time now returns for another try.
//
//go:nosplit
func (w *raisedWait) retry(addr uintptr, now int64) bool {
	if w.addr != addr || now-w.seen > raisedWaitGap {
		w.addr, w.since = addr, now
	}
	w.seen = now
	return now-w.since < maxRaisedWait
}

// timeoutResult is a blocked call's return value when its deadline passes.
//
//go:nosplit
func timeoutResult(w waitReason) uint64 {
	if w == waitFutex {
		return uint64(errno(syscall.ETIMEDOUT))
	}
	return 0
}

//go:nosplit
func timespecNs(p uintptr) int64 {
	ts := (*[2]int64)(unsafePointerAt(p))
	return ts[0]*1_000_000_000 + ts[1]
}

//go:nosplit
func sysNanosleepCall(req uintptr) uintptr {
	d := nanotime() + timespecNs(req)
	if stopping.Load() && ke.GetCurrentIrql() >= ke.DispatchLevel {
		// The runtime's fatal path pauses (freezing the world) on a thread
		// that may hold a raised IRQL, where blocking could leave it on a
		// processor whose timer that IRQL masks: wait here instead, briefly.
		for end := min(d, nanotime()+maxStopPause); nanotime() < end; {
			arch.Pause()
		}
		return 0
	}
	noteDeadline(d)
	block(waitSleep, 0, d)
	return 0
}

// maxStopPause bounds a sleep at raised IRQL once a stop has begun.
const maxStopPause = 10_000_000 // 10 ms, in ns

// Clock IDs.
const (
	clockRealtime  = 0
	clockMonotonic = 1
)

//go:nosplit
func sysClockGettimeCall(clk, tsp uintptr) uintptr {
	ns := nanotime()
	if clk == clockRealtime {
		ns += realtimeOffset
	}
	ts := (*[2]int64)(unsafePointerAt(tsp))
	ts[0], ts[1] = ns/1_000_000_000, ns%1_000_000_000
	return 0
}

//go:nosplit
func sysGetrandomCall(buf, n uintptr) uintptr {
	b := bytesAt(buf, n)
	for i := 0; i < len(b); i += 8 {
		v := random64()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return n
}

// random64 uses RDRAND when CPUID offers it, else a TSC-seeded xorshift
// (which is no cryptographic source: ver reports which one is in use).
//
//go:nosplit
func random64() uint64 {
	if hasRDRAND {
		if v, ok := rdrand(); ok {
			return v
		}
	}
	rngState ^= arch.RDTSC()
	rngState ^= rngState << 13
	rngState ^= rngState >> 7
	rngState ^= rngState << 17
	return rngState
}

var (
	hasRDRAND bool
	rngState  uint64 = 0x9E3779B97F4A7C15
)

func rdrand() (v uint64, ok bool)

// Random fills b from the kernel's random source (boot uses it for AT_RANDOM).
//
//go:nosplit
func Random(b []byte) {
	for i := 0; i < len(b); i += 8 {
		v := random64()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
}

// errno is a system call's failure result: the negated Linux errno.
//
//go:nosplit
func errno(e syscall.Errno) uintptr { return -uintptr(e) }

// syscallName names system call nr for the log of unimplemented ones.
//
//go:nosplit
func syscallName(nr uint64) string {
	if nr < uint64(len(syscallNames)) && syscallNames[nr] != "" {
		return syscallNames[nr]
	}
	return "unknown"
}
