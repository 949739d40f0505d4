// The debugger's views of the processors and their threads: !irql, !pcr
// and !thread. The KPCRs and the thread table belong to trap context, so
// each command copies what it shows under the kernel lock
// (snapshotScheduler, smp_trap.go) and formats the copy afterwards.

package kernel

import (
	"fmt"
	"io"
	"time"

	"ntgo/kernel/console"
	"ntgo/kernel/kd"
	"ntgo/kernel/kd/mmext"
	"ntgo/mm/ex"
	"ntgo/nt/ke"
)

func init() {
	console.Register(console.Command{Name: "!irql", Help: "the current IRQL of this processor", Run: cmdIrql})
	console.Register(console.Command{Name: "!pcr", Args: "[processor]", Help: "a processor's KPCR (default this one): current thread, IRQL, trap nesting, counters, trap stacks", Run: cmdPcr})
}

func cmdIrql(w io.Writer, args []string) error {
	if len(args) != 0 {
		return console.ErrUsage
	}
	irql := ke.GetCurrentIrql()
	fmt.Fprintf(w, "Current IRQL -- %d (%v)\n", irql, irql)
	return nil
}

func cmdPcr(w io.Writer, args []string) error {
	if len(args) > 1 {
		return console.ErrUsage
	}
	n := startedProcessors()
	ths := new([maxThreads]Thread)
	var pcr KPCR
	snapshotScheduler(ths, &pcr, 0)
	cpu := uint32(ke.CurrentProcessorNumber())
	if len(args) == 1 {
		v, err := console.Bounded(args[0], 0, uint64(n-1))
		if err != nil {
			return err
		}
		cpu = uint32(v)
	}
	snapshotScheduler(ths, &pcr, cpu)
	current := fmt.Sprintf("%d (TID %d)", pcr.Current, ths[pcr.Current].TID)
	if pcr.Current == pcr.Idle {
		current += " idle loop"
	}
	irql := ke.ProcessorIrql(int(cpu))
	fmt.Fprintf(w, "KPCR for Processor %d at %s:\n", pcr.Number, kd.FormatAddress(uint64(pcr.Self)))
	fmt.Fprintf(w, "    APIC ID:        %d (node %d)\n", pcr.APICID, pcr.Node)
	fmt.Fprintf(w, "    CurrentThread:  %s\n", current)
	fmt.Fprintf(w, "    Irql:           %d (%v)\n", irql, irql)
	fmt.Fprintf(w, "    TrapDepth:      %d\n", pcr.TrapDepth)
	fmt.Fprintf(w, "    SyscallStack:   %s\n", kd.FormatAddress(uint64(pcr.SyscallStack)))
	fmt.Fprintf(w, "    TrapTLS:        %s\n", kd.FormatAddress(uint64(pcr.TrapTLS)))
	fmt.Fprintf(w, "    ThreadFSBase:   %s\n", kd.FormatAddress(uint64(pcr.ThreadFSBase)))
	fmt.Fprintf(w, "    Interrupts:     %d\n", pcr.Interrupts)
	fmt.Fprintf(w, "    Syscalls:       %d\n", pcr.Syscalls)
	fmt.Fprintf(w, "    PageFaults:     %d\n", pcr.PageFaults)
	fmt.Fprintf(w, "    Switches:       %d\n", pcr.Switches)
	fmt.Fprintf(w, "    PoolLookasides: %s\n", mmext.ProcessorLookasides(ex.Lookasides(), int(cpu)))
	writeKernelStacks(w, cpu)
	return nil
}

// threadView is what !thread shows of one thread.
type threadView struct {
	index           int
	tid             int32
	state           threadState
	wait            waitReason
	waitAddr        uintptr
	deadline        int64
	cpuTime         int64
	switches        uint64
	rip             uint64
	runningThisCall bool
	idle            bool
}

var stateNames = [...]string{threadFree: "free", threadReady: "READY", threadRunning: "RUNNING", threadBlocked: "WAIT"}

// liveThreads is !thread's table at the console.
func liveThreads() ([]kd.Thread, error) { return threadTable("(this console command)"), nil }

// threadTable is !thread's rows, the running thread's RIP replaced by
// running (its saved RIP is stale while it runs). The records are copied
// with interrupts off; the rows are made afterwards.
func threadTable(running string) []kd.Thread {
	ths := new([maxThreads]Thread)
	var pcr KPCR
	current := snapshotScheduler(ths, &pcr, 0)
	return threadRows(ths, current, nanotime(), running)
}

// threadRows is threadTable's rows of the copy ths, made at time now,
// current the thread this processor ran then.
func threadRows(ths *[maxThreads]Thread, current int32, now int64, running string) []kd.Thread {
	var views [maxThreads]threadView
	n := 0
	for i := range ths {
		th := &ths[i]
		if th.State == threadFree && !th.Idle {
			continue
		}
		views[n] = threadView{
			index: i, tid: th.TID, state: th.State, wait: th.Wait, waitAddr: th.WaitAddr,
			deadline: th.Deadline, cpuTime: th.CPUTime, switches: th.Switches,
			rip: th.Frame.RIP, runningThisCall: int32(i) == current, idle: th.Idle,
		}
		n++
	}

	rows := make([]kd.Thread, n)
	for i, v := range views[:n] {
		rows[i] = kd.Thread{Index: int32(v.index), TID: v.tid, State: stateNames[v.state], Wait: waitText(v, now),
			CPUTime: time.Duration(v.cpuTime), Switches: v.switches, RIP: uintptr(v.rip), Idle: v.idle}
		if v.runningThisCall {
			rows[i].Note = running
		}
	}
	return rows
}

// waitText says what a blocked thread waits for and until when.
func waitText(v threadView, now int64) string {
	if v.state != threadBlocked || v.idle {
		return "-"
	}
	s := waitNames[v.wait]
	if v.waitAddr != 0 {
		s += " " + kd.FormatAddress(uint64(v.waitAddr))
	}
	if v.deadline != 0 {
		s += fmt.Sprintf(" (%v)", time.Duration(v.deadline-now).Round(time.Microsecond))
	}
	return s
}
