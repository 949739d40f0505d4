package kd

import (
	"ntgo/kernel/ldr"
	"ntgo/nt/bugcheck"
)

// Target is everything the debugger knows of the machine it looks at; the
// kernel builds one at boot and hands it to Register (console commands) and
// WriteStopScreen (the bugcheck screen).

// Target is the machine the debugger examines.
type Target struct {
	// Memory reads the address space, refusing unmapped addresses.
	Memory Memory
	// Symbols names code addresses; nil means RuntimeSymbols (this binary).
	Symbols Symbols
	// Syntax of disassembly listings.
	Syntax Syntax
	// Context returns the registers and stack of the thread r, k and
	// @register expressions look at, or false if there is none (the console
	// has no stopped thread). Nil means never.
	Context func() (Context, bool)
	// Stop is the bugcheck the target stopped with and its thread's
	// context, for !analyze -v; nil for a running system.
	Stop func() (*bugcheck.Record, Context)
	// Modules is the loaded-module list, which names a culprit's module;
	// nil means none is known (the kernel image is then named).
	Modules func() []ldr.Module
}

// modules is Modules, or none.
func (t *Target) modules() []ldr.Module {
	if t.Modules == nil {
		return nil
	}
	return t.Modules()
}

func (t *Target) symbols() Symbols {
	if t.Symbols == nil {
		return RuntimeSymbols{}
	}
	return t.Symbols
}

// context is Context, or false if the target has no thread context.
func (t *Target) context() (Context, bool) {
	if t.Context == nil {
		return Context{}, false
	}
	return t.Context()
}
