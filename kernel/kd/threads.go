// !thread: the kernel's thread table, as the live console and a crash dump
// both show it. The kernel turns its thread records into Threads (it owns
// them, and reads them with interrupts off); WriteThreads formats, naming
// each thread's RIP with the target's symbols (the running binary's, or
// the kernel ELF's in the dump viewer).

package kd

import (
	"fmt"
	"io"
	"time"

	"ntgo/kernel/console"
)

// ThreadsCommand is !thread over the thread table table returns, named
// with t's symbols: the one definition the console and the dump viewer
// register.
func ThreadsCommand(t *Target, table func() ([]Thread, error)) console.Command {
	return console.Command{Name: "!thread", Help: "kernel threads: state, what each waits on, CPU time, where it stopped",
		Run: func(w io.Writer, args []string) error {
			if len(args) != 0 {
				return console.ErrUsage
			}
			threads, err := table()
			if err != nil {
				return err
			}
			WriteThreads(w, t.symbols(), threads)
			return nil
		}}
}

// Thread is one row of !thread.
type Thread struct {
	Index    int32
	TID      int32
	State    string // RUNNING, READY, WAIT
	Wait     string // what a blocked thread waits on, "-" otherwise
	CPUTime  time.Duration
	Switches uint64
	RIP      uintptr
	// Note replaces the symbolized RIP for the thread the view runs on
	// (whose saved RIP is stale): the console command, or the stop.
	Note string
	Idle bool
}

// WriteThreads prints threads as !thread does.
func WriteThreads(w io.Writer, s Symbols, threads []Thread) {
	fmt.Fprintf(w, "%-4s %-5s %-8s %-30s %12s %9s  %s\n", "THRD", "TID", "STATE", "WAIT", "CPU", "SWITCHES", "RIP")
	for _, th := range threads {
		where := th.Note
		if where == "" {
			where = Symbolize(s, th.RIP)
		}
		if th.Idle {
			where += " idle"
		}
		fmt.Fprintf(w, "%-4d %-5d %-8s %-30s %12v %9d  %s\n", th.Index, th.TID, th.State,
			th.Wait, th.CPUTime.Round(time.Microsecond), th.Switches, where)
	}
}
