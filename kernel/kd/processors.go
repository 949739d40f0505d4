// ~: the processors, as the live console and a crash dump both show them.
// `~` lists each processor's number, IRQL, what it was doing and where;
// `~ N` prints processor N's registers as `r` does, with its RIP named by
// the target's symbols. The kernel gathers the registers (live: the other
// processors held for a moment in its stall IPI; in a dump: as the
// bugcheck's stall found them), so this view is only formatting.

package kd

import (
	"fmt"
	"io"

	"ntgo/kernel/console"
)

// Processor is one processor's state at a moment: its registers where it
// was interrupted (the current processor's where the view was asked for).
type Processor struct {
	Number    uint32
	IRQL      uint8
	State     string // "the bugcheck", "stalled", "current", "did not answer"
	Registers Registers
}

// ProcessorsCommand is ~ over the processors table returns, named with
// t's symbols: the one definition the console and the dump viewer
// register.
func ProcessorsCommand(t *Target, table func() ([]Processor, error)) console.Command {
	return console.Command{Name: "~", Help: "processors: ~ lists them (IRQL, state, RIP); ~ N shows processor N's registers",
		Run: func(w io.Writer, args []string) error {
			if len(args) > 1 {
				return console.ErrUsage
			}
			ps, err := table()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				WriteProcessors(w, t.symbols(), ps)
				return nil
			}
			n, err := console.Number(args[0])
			if err != nil {
				return err
			}
			for i := range ps {
				if uint64(ps[i].Number) == n {
					fmt.Fprintf(w, "Processor %d (%s), IRQL %d: %s\n", n, ps[i].State, ps[i].IRQL, Symbolize(t.symbols(), uintptr(ps[i].Registers.RIP)))
					ps[i].Registers.Write(w)
					return nil
				}
			}
			return fmt.Errorf("no processor %d (%d processors)", n, len(ps))
		}}
}

// WriteProcessors prints ps as ~ does.
func WriteProcessors(w io.Writer, s Symbols, ps []Processor) {
	fmt.Fprintf(w, "%-4s %-4s %-15s %-16s  %s\n", "PROC", "IRQL", "STATE", "RSP", "RIP")
	for _, p := range ps {
		fmt.Fprintf(w, "%-4d %-4d %-15s %016x  %s\n", p.Number, p.IRQL, p.State, p.Registers.RSP, Symbolize(s, uintptr(p.Registers.RIP)))
	}
}
