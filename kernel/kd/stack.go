// Call stacks, as k and the bugcheck screen print them: one line per
// return address, WinDbg's frame number and return-address symbol, then
// the source line of the call.
//
// A stack is what runtime.Callers fills, which already lists each inlined
// call as a frame of its own (a return address just past the inline mark,
// in the function it was inlined into), so each address is one frame: its
// innermost function. Expanding the inlining of every address again would
// list the functions that inlined it twice.

package kd

import (
	"fmt"
	"io"
)

// callInstruction is the address inside the call that pushed return
// address ret: its last byte, whose line is the call's line.
func callInstruction(ret uintptr) uintptr { return ret - 1 }

// writeStack prints stack (return addresses, innermost first).
func writeStack(w io.Writer, s Symbols, stack []uintptr) {
	fmt.Fprintln(w, " # Call Site")
	for n, ret := range stack {
		frames := s.Frames(callInstruction(ret))
		if len(frames) == 0 {
			fmt.Fprintf(w, "%02x %s\n", n, FormatAddress(uint64(ret)))
			continue
		}
		f, site := frames[0], Symbolize(s, ret)
		if len(frames) > 1 {
			site = f.Function + " (inlined)"
		}
		fmt.Fprintf(w, "%02x %s [%s:%d]\n", n, site, f.File, f.Line)
	}
}

// writeLocation prints the function, file and line at pc, inlined calls
// first, as the screen's FAULTING_IP does.
func writeLocation(w io.Writer, s Symbols, pc uintptr) {
	frames := s.Frames(pc)
	if len(frames) == 0 {
		fmt.Fprintf(w, "%s (no Go function holds this address)\n", FormatAddress(uint64(pc)))
		return
	}
	fmt.Fprintf(w, "%s %s\n", FormatAddress(uint64(pc)), Symbolize(s, pc))
	for i, f := range frames {
		inlined := ""
		if i < len(frames)-1 {
			inlined = " (inlined)"
		}
		fmt.Fprintf(w, "    %s%s\n        %s:%d\n", f.Function, inlined, f.File, f.Line)
	}
}
