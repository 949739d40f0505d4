// The verifier's state as `verifier` (no arguments) and `!verifier` print
// it: settings, counters, the special pool, each verified driver's
// outstanding allocations.

package verifier

import (
	"fmt"
	"io"
	"runtime"
	"strings"
)

var flagNames = []struct {
	f    Flags
	name string
}{{SpecialPool, "special pool"}, {ForceIrqlChecking, "force IRQL checking"},
	{LowResources, "low-resource simulation"}, {PoolTracking, "pool tracking"}}

// String is the flags as verifier.exe names them.
func (f Flags) String() string {
	var n []string
	for _, x := range flagNames {
		if f&x.f != 0 {
			n = append(n, x.name)
		}
	}
	if len(n) == 0 {
		return "none"
	}
	return strings.Join(n, ", ")
}

// WriteReport prints the settings, the counters and the outstanding
// allocations.
func WriteReport(w io.Writer) {
	s := Current()
	fmt.Fprintf(w, "Verify flags: %#x (%v)\n", uint32(s.Flags), s.Flags)
	switch {
	case s.Flags == 0 || !s.All && len(s.Drivers) == 0:
		fmt.Fprintln(w, "Verified drivers: none")
	case s.All:
		fmt.Fprintln(w, "Verified drivers: all")
	default:
		fmt.Fprintf(w, "Verified drivers: %s\n", strings.Join(s.Drivers, " "))
	}
	align := "verify end (overrun)"
	if s.Underrun {
		align = "verify start (underrun)"
	}
	mu.Lock()
	mapped, budget := 0, 0
	if sp := state.special; sp != nil {
		mapped, budget = sp.mapped, sp.budget
	}
	calls := state.inject.calls
	mu.Unlock()
	fmt.Fprintf(w, "Pool calls verified: %d allocations, %d frees\n", counters.Allocations.Load(), counters.Frees.Load())
	fmt.Fprintf(w, "Special pool: %s, %d of %d pages in use, %d allocations, %d fell back to normal pool\n",
		align, mapped, budget, counters.SpecialAllocations.Load(), counters.SpecialFallbacks.Load())
	fmt.Fprintf(w, "Low-resource simulation: seed %#x, probability %d/10000 after %d calls; %d calls drawn, injected:",
		s.Seed, s.Probability, s.Grace, calls)
	for k := range injectKinds {
		fmt.Fprintf(w, " %s %d", k, counters.Injected[k].Load())
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "IRQL checking: %d raises trimmed %d pages, %d raises had nothing to trim\n",
		counters.RaisesTrimmed.Load(), counters.PagesTrimmed.Load(), counters.NothingToTrim.Load())
	out := Outstanding("")
	fmt.Fprintf(w, "Outstanding allocations: %d\n", len(out))
	if len(out) > 0 {
		fmt.Fprintf(w, "  %-12s %-17s %-4s %8s %-8s %s\n", "Driver", "Address", "Tag", "Size", "Pool", "Caller")
	}
	for _, a := range out {
		where := "normal"
		if a.Special {
			where = "special"
		}
		fmt.Fprintf(w, "  %-12s %08x`%08x %v %8d %-8s %s\n", a.Driver, uint64(a.Address)>>32, uint32(a.Address),
			a.Tag, a.Size, where, symbol(a.Caller))
	}
}

// symbol names a return address as function+offset: the real function
// (the outermost of the inlined calls there), as the stack shows it.
func symbol(pc uintptr) string {
	f := runtime.FuncForPC(pc - 1)
	if f == nil {
		return fmt.Sprintf("%#x", pc)
	}
	frames := runtime.CallersFrames([]uintptr{pc, 0}) // 0 after: inlined calls expanded (kd.RuntimeSymbols)
	name := f.Name()
	for fr, more := frames.Next(); ; fr, more = frames.Next() {
		name = fr.Function
		if !more {
			break
		}
	}
	return fmt.Sprintf("%s+%#x", name, pc-f.Entry())
}
