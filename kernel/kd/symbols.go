// Symbols: from a code address to function, file and line.
//
// A frame lookup expands inlining: one PC can stand for several frames,
// innermost first; the outermost is the real function, whose entry is where
// its machine code starts.
//
// Go keeps no name-to-address table at run time, only the reverse (the
// pclntab behind runtime.FuncForPC and runtime.CallersFrames). The table
// for names in expressions (u ntgo/mm.cmdPte) is built from that reverse
// map the first time a name is looked up: the pclntab orders functions by
// entry and FuncForPC(pc) answers for every pc of the text, so walking from
// the end of the text down, one function at a time (the function before
// entry e holds e-1), visits each function once. The walk needs no help
// from the build and nothing but the pclntab the binary carries anyway;
// its cost is measured in docs/figures.md.

package kd

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sync"
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

var (
	functionsOnce sync.Once
	functions     map[string]uintptr
)

// Address implements SymbolTable: the entry of the named function.
func (RuntimeSymbols) Address(name string) (uintptr, bool) {
	functionsOnce.Do(func() { functions = functionTable() })
	a, ok := functions[name]
	return a, ok
}

// FunctionEntry is one function of the binary and where its code starts.
type FunctionEntry struct {
	Name  string
	Entry uintptr
}

// Functions is every function of the binary, by entry, and the end of the
// text (the last function's code ends there): the table Address looks
// names up in, for those who need the functions' extents (Driver
// Verifier's attribution of code to drivers, kernel/vf).
func (RuntimeSymbols) Functions() ([]FunctionEntry, uintptr) {
	functionsOnce.Do(func() { functions = functionTable() })
	out := make([]FunctionEntry, 0, len(functions))
	for n, e := range functions {
		out = append(out, FunctionEntry{n, e})
	}
	slices.SortFunc(out, func(a, b FunctionEntry) int { return cmp.Compare(a.Entry, b.Entry) })
	return out, textEnd()
}

// functionTable maps every function of the binary to its entry.
func functionTable() map[string]uintptr {
	table := map[string]uintptr{}
	for pc := textEnd() - 1; ; {
		f := runtime.FuncForPC(pc)
		if f == nil {
			return table
		}
		entry := f.Entry()
		if real, ok := outermost(RuntimeSymbols{}, entry); ok {
			table[real.Function] = entry
		}
		pc = entry - 1
	}
}

// textEnd is the first address past the binary's code: from a pc inside
// it, doubling strides find one beyond, and a binary search the boundary.
func textEnd() uintptr {
	var here [1]uintptr
	runtime.Callers(1, here[:])
	in, out := here[0], here[0]+1
	for stride := uintptr(1); runtime.FuncForPC(out) != nil; stride *= 2 {
		in, out = out, out+stride
	}
	for out-in > 1 {
		mid := in + (out-in)/2
		if runtime.FuncForPC(mid) != nil {
			in = mid
		} else {
			out = mid
		}
	}
	return out
}
