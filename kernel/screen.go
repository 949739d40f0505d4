// The bugcheck screen in goroutine context.
//
// KeBugCheckEx called by a goroutine (pool or PFN misuse found by a driver's
// call, an explicit bugcheck) reaches this handler with the Go runtime fully
// usable, so the screen adds what trap context cannot give: the function,
// file and line that called KeBugCheckEx, the Go stack of the goroutine and
// the disassembly around the call (kd.WriteStopScreen). A fault dispatched
// to its goroutine (dispatch.go) arrives here too, with the registers at the
// fault, and the screen marks the faulting instruction instead. Interrupts are disabled first so no other thread runs on this
// processor while the screen is printed; with crash dumps enabled, the
// dump is captured before the screen and written after it (crashdump.go);
// then the other processors are frozen and listed (freeze_trap.go), and
// the machine powers off with the code's ExitStatus.
//
// In-kernel test binaries (os.Args carries -test. flags) keep the host's
// behaviour instead: the handler returns, KeBugCheckEx panics with the
// *Record, and bugcheck.Catch in a test can inspect it.

package kernel

import (
	"os"
	"runtime"
	"strings"

	"ntgo/kernel/kd"
	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
)

// initBugcheckScreen makes goroutine bugchecks print the screen and power
// off (not in a test binary, whose tests catch bugchecks as panics).
func initBugcheckScreen() {
	if !testBinary() {
		bugcheck.SetHandler(bugcheckScreen)
		stopsAreFinal = true
		// The screen locks its goroutine to its thread, and the runtime's
		// first LockOSThread starts a thread (its template thread), which
		// takes the scheduler's lock and may yield for it: done here, not
		// in a bugcheck at HIGH_LEVEL, where that yield stopped the stop
		// with ATTEMPTED_SWITCH_FROM_DPC (seen at SMP=4).
		runtime.LockOSThread()
		runtime.UnlockOSThread()
	}
}

// testBinary reports whether this kernel is a `go test` binary.
func testBinary() bool {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.") {
			return true
		}
	}
	return false
}

func bugcheckScreen(r *bugcheck.Record) {
	// Stopping first: from here a thread may switch at any IRQL, so the
	// goroutine may wait on the runtime whatever level it bugchecked at.
	beginStop()
	runtime.LockOSThread()
	arch.DisableInterrupts()
	stayOnThisProcessor()
	// What a crash dump needs to hold still (the page lists) is copied
	// first, with the other processors stalled, and nothing in that window
	// can wait (stallwindow_trap.go); the rest is captured after.
	me := stallAndCopy(crashDumps)
	crash := captureCrash(r)
	ctx, _ := currentContext()
	ctx.Registers.RIP = uint64(r.PC) // no trap: the caller's return address, as NT's screen shows
	if fault := faultContext.Load(); fault != nil {
		ctx = *fault // a fault: the screen marks the faulting instruction
	}
	if crash != nil {
		crash.Processors = processorTable(me, "the bugcheck", ctx.Registers)
	}
	var b strings.Builder
	kd.WriteStopScreen(&b, debugTarget, r, ctx)
	screen := b.String()
	end := strings.LastIndex(screen, "\nPowering off") // the processors go above the screen's last line
	if end < 0 {
		end = len(screen)
	}
	serialWriteString(screen[:end])
	if crash != nil {
		crash.Context = ctx
		writeCrashDump(crash)
	}
	// The others stop only now: the screen and the dump allocate, and a
	// frozen processor may hold a lock of the Go runtime's.
	finishStop(uintptr(ctx.Registers.RIP), screen[end:], r.Code)
}

// stayOnThisProcessor keeps the stopping thread on the processor it runs on
// (interrupts are off, and LockOSThread keeps the goroutine on the thread):
// the capture and the screen allocate, and an allocation that waits in the
// runtime (a futex on a heap lock the resumed processors contend) would
// otherwise resume wherever the scheduler finds room. The dump then named
// the processor it had moved to as the bugcheck's, and the one it had left
// as one that did not answer the stall.
func stayOnThisProcessor() {
	p := currentKPCR()
	threads[p.Current].Affinity = 1 << p.Number
}
