// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The Go runtime's fatal report, caught so that its exit is a bugcheck.
//
// A panic no kernel routine recovers (systemthread.go covers console
// commands) and a runtime fatal error (throw) end in the runtime's fatal
// path: it prints the report on fd 2 and calls exit(2). At boot the kernel
// hands the runtime a crash-output file (runtime/debug.SetCrashOutput) on
// the kernel's crash device, fds crashFd and crashFd+1 (the runtime keeps a
// dup): the runtime writes a copy of its report there only while it is
// dying, so a write to the device is the kernel's exact signal that a fatal
// report is in progress, and exit_group after it is the report's end, not
// os.Exit. The copy is kept in crashReport (the console already shows the
// original on fd 2) and the exit becomes the stop:
//
//   - a report with a "panic: " line is an unrecovered panic: 0x7E
//     SYSTEM_THREAD_EXCEPTION_NOT_HANDLED with bugcheck.ExceptionGoPanic;
//   - otherwise it is a fatal error, whose "fatal error: ..." line the
//     runtime prints before it starts dying, so the kernel keeps the tail
//     of fd 2 (stderrTail) and prepends it: 0x1E KMODE_EXCEPTION_NOT_HANDLED
//     with bugcheck.ExceptionGoFatal.
//
// Parameter 2 is 0 (the report says where; no symbols in trap context), 3
// the report's address, 4 for 0x7E the trap frame of the exit. The runtime
// has forbidden allocation by then, so the stop is the trap-context screen
// (stop_trap.go), with the report as its EXCEPTION_RECORD, and no crash dump.

package kernel

import (
	"syscall"
	"unsafe"

	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
)

// crashFd is the crash device's descriptor; crashFd+1 is its dup.
const crashFd = fdBase + maxFds

const (
	crashReportSize = 16 << 10
	stderrTailSize  = 256
	fDupfdCloexec   = 1030
)

var (
	crashReport    [crashReportSize]byte
	crashReportLen int
	// stderrTail is the last stderrTailSize bytes written to fd 2, a ring.
	stderrTail    [stderrTailSize]byte
	stderrWritten uint64
)

//go:nosplit
func isCrashFd(fd int) bool { return fd == crashFd || fd == crashFd+1 }

// noteStderr keeps b in the tail of fd 2. The runtime prints "fatal
// error: " just before its fatal path, whose first act (freezing the
// world) sleeps: from then on the report is all that matters, so the stop
// has begun and threads switch at any IRQL (sched_trap.go), as they must
// when the throw comes from a goroutine holding the dispatch pin.
//
//go:nosplit
func noteStderr(b []byte) {
	for _, c := range b {
		stderrTail[stderrWritten%stderrTailSize] = c
		stderrWritten++
	}
	const fatal = "fatal error: "
	if stderrWritten >= uint64(len(fatal)) && tailHasAt(stderrWritten-uint64(len(fatal)), fatal) {
		beginStop()
	}
}

// crashWrite appends b to the report; the first write also takes the fatal
// error line from the tail of fd 2.
//
//go:nosplit
func crashWrite(b []byte) uintptr {
	if crashReportLen == 0 {
		appendFatalErrorLine()
	}
	crashReportLen += copy(crashReport[crashReportLen:], b)
	return uintptr(len(b))
}

// appendFatalErrorLine copies the last "fatal error: " line of fd 2's tail
// (through its newline) into the report, with the "panic: " line just
// before it when the fatal error is a panic the runtime could not run
// (a panic holding the dispatch pin: "panic holding locks").
//
//go:nosplit
func appendFatalErrorLine() {
	const prefix, panicPrefix = "fatal error: ", "panic: "
	n := min(stderrWritten, stderrTailSize)
	start := stderrWritten - n
	at, panicAt := uint64(0), uint64(0)
	found, panicFound := false, false
	for i := start; i+uint64(len(prefix)) <= stderrWritten; i++ {
		if tailHasAt(i, panicPrefix) {
			panicAt, panicFound = i, true
		}
		if tailHasAt(i, prefix) {
			at, found = i, true
		}
	}
	from := at
	if found && panicFound && panicAt < at && tailHasAt(at+uint64(len(prefix)), "panic ") {
		from = panicAt
	}
	for i := from; found && i < stderrWritten; i++ {
		c := stderrTail[i%stderrTailSize]
		crashReport[crashReportLen] = c
		crashReportLen++
		if c == '\n' && i > at {
			break
		}
	}
}

//go:nosplit
func tailHasAt(i uint64, s string) bool {
	for j := 0; j < len(s); j++ {
		if stderrTail[(i+uint64(j))%stderrTailSize] != s[j] {
			return false
		}
	}
	return true
}

// crashReportHas reports whether the report contains s.
//
//go:nosplit
func crashReportHas(s string) bool {
	for i := 0; i+len(s) <= crashReportLen; i++ {
		j := 0
		for j < len(s) && crashReport[i+j] == s[j] {
			j++
		}
		if j == len(s) {
			return true
		}
	}
	return false
}

// stopAtFatalExit stops the system if the runtime wrote a fatal report:
// called by exit_group; returns if there is none.
//
//go:nosplit
func stopAtFatalExit(f *TrapFrame) {
	if crashReportLen == 0 {
		return
	}
	stopReportLen = crashReportLen
	report := uintptr(unsafe.Pointer(&crashReport))
	// A goroutine at DISPATCH_LEVEL or above holds ke's dispatch pin; if it
	// blocks, the runtime throws "... holding locks" rather than switch:
	// the switch NT's context switch stops.
	if irql := ke.GetCurrentIrql(); irql >= ke.DispatchLevel && crashReportHas("holding locks") && !crashReportHas("panic holding locks") {
		switchAtRaisedIrql(f, currentKPCR().Current, irql)
	}
	if crashReportHas("panic: ") {
		stop(f, bugcheck.SystemThreadExceptionNotHandled, bugcheck.ExceptionGoPanic, 0, report, uintptr(unsafe.Pointer(f)))
	}
	stop(f, bugcheck.KmodeExceptionNotHandled, bugcheck.ExceptionGoFatal, 0, report, 0)
}

// crashDup is fcntl(F_DUPFD_CLOEXEC) of the crash device.
//
//go:nosplit
func crashDup(fd int) uintptr {
	if fd != crashFd {
		return errno(syscall.EINVAL) // only the device itself is dup'ed
	}
	return crashFd + 1
}
