package kd

// Symbols: from a code address to function, file and line.
//
// Go keeps no name-to-address table at run time, only the reverse (the
// pclntab behind runtime.FuncForPC and runtime.CallersFrames), so the
// debugger names addresses but does not take function names as input (see
// expr.go). A frame lookup expands inlining: one PC can stand for several
// frames, innermost first; the outermost is the real function, whose entry
// is where its machine code starts.

import (
	"fmt"
	"runtime"
)

// Frame is one (possibly inlined) function at a code address.
type Frame struct {
	Function string  // package-qualified name, e.g. ntgo/mm/pool.(*System).Allocate
	Entry    uintptr // start of the outermost function's code
	File     string
	Line     int
}

// Symbols names code addresses.
type Symbols interface {
	// Frames returns the functions executing at pc, innermost first
	// (inlined calls expanded, the real function last), or nil if pc is in
	// no known function. pc is the address of an instruction, not a
	// return address.
	Frames(pc uintptr) []Frame
}

// RuntimeSymbols names the addresses of this binary from its own pclntab.
type RuntimeSymbols struct{}

// Frames implements Symbols.
func (RuntimeSymbols) Frames(pc uintptr) []Frame {
	if runtime.FuncForPC(pc) == nil {
		return nil
	}
	// CallersFrames takes return addresses and looks up the byte before
	// each; pc+1 makes it look up the instruction at pc itself. It expands
	// inlined calls only while more PCs follow in its list, so a PC no
	// function holds (0, which it skips) follows.
	const noFunction = 0
	frames := runtime.CallersFrames([]uintptr{pc + 1, noFunction})
	var out []Frame
	for {
		f, more := frames.Next()
		out = append(out, Frame{Function: f.Function, Entry: f.Entry, File: f.File, Line: f.Line})
		if !more {
			return out
		}
	}
}

// outermost is the real function at pc (the last of its frames).
func outermost(s Symbols, pc uintptr) (Frame, bool) {
	fs := s.Frames(pc)
	if len(fs) == 0 {
		return Frame{}, false
	}
	return fs[len(fs)-1], true
}

// Symbolize formats pc as WinDbg does: function+offset from its entry, or
// the bare address when no function holds it.
func Symbolize(s Symbols, pc uintptr) string {
	f, ok := outermost(s, pc)
	if !ok {
		return FormatAddress(uint64(pc))
	}
	if pc == f.Entry {
		return f.Function
	}
	return fmt.Sprintf("%s+%#x", f.Function, pc-f.Entry)
}
