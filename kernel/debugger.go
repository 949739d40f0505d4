// The kernel debugger's view of this machine (package kd): memory that
// refuses unmapped pages, this binary's symbols, and the registers and stack
// of the thread that asks. The bugcheck handler prints kd's screen with
// the same Target.

package kernel

import (
	"reflect"
	"runtime"
	"unsafe"

	"ntgo/kernel/console"
	"ntgo/kernel/kd"
	"ntgo/kernel/kd/dt"
	"ntgo/kernel/ldr"
	"ntgo/mm"
	"ntgo/mm/physmem"
	"ntgo/nt/arch"
)

// liveMemory is kd.Memory over the running kernel's page tables.
type liveMemory struct{}

// Read copies the bytes at addr if every page they touch is present. The
// check and the copy run with interrupts off, so no thread unmaps a page
// in between.
func (liveMemory) Read(addr uintptr, b []byte) bool {
	if len(b) == 0 {
		return true
	}
	rflags := arch.DisableInterrupts()
	defer arch.RestoreInterrupts(rflags)
	last := addr + uintptr(len(b)) - 1
	if last < addr {
		return false
	}
	for page := addr &^ physmem.PageMask; ; page += physmem.PageSize {
		if !mm.Readable(page) {
			return false
		}
		if page == last&^physmem.PageMask {
			break
		}
	}
	copy(b, unsafe.Slice((*byte)(unsafePointerAt(addr)), len(b)))
	return true
}

// debugTarget is the Target of the console commands and the screen.
// The screen asks for the module list with interrupts off, so it must not
// wait for the list's lock (ldr.TryModules).
var debugTarget = &kd.Target{Memory: liveMemory{}, Context: currentContext,
	Modules: func() []ldr.Module { m, _ := ldr.TryModules(); return m }}

// initDebugger gives kd the live target and lists the kernel image as the
// first loaded module.
func initDebugger() {
	kd.Register(debugTarget)
	initMMViews()
	ldr.Load(kernelModule())
	dt.Register("_KPCR", reflect.TypeFor[KPCR]())
	for _, c := range dt.Commands(debugTarget) {
		console.Register(c)
	}
	console.Register(kd.ThreadsCommand(debugTarget, liveThreads))
	console.Register(kd.ProcessorsCommand(debugTarget, liveProcessors))
}

// kernelModule is the kernel image's entry in the loaded-module list: the
// span of its loaded segments.
func kernelModule() ldr.Module {
	m := ldr.Module{Name: "ntgo", Package: "ntgo/kernel"}
	for _, s := range bootInfo.Image[:bootInfo.NImage] {
		if m.Start == 0 || s.Start < m.Start {
			m.Start = s.Start
		}
		m.End = max(m.End, s.End)
	}
	return m
}

// captureRegisters stores the caller's general registers, RIP, RSP, RBP,
// RFLAGS, CS and SS into r (asm).
func captureRegisters(r *kd.Registers)

// maxContextFrames bounds the stack a context records.
const maxContextFrames = 64

// currentContext is the calling thread's registers and Go stack.
func currentContext() (kd.Context, bool) {
	var c kd.Context
	captureRegisters(&c.Registers)
	readControlRegisters(&c.Registers)
	pcs := make([]uintptr, maxContextFrames)
	c.Stack = pcs[:runtime.Callers(2, pcs)]
	return c, true
}
