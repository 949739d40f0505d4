// The ~ view's processors, live and at a bugcheck: every other processor
// is held for a moment in the stall IPI (smp_trap.go), which records the
// registers it was interrupted with; this processor gives its own.

package kernel

import (
	"ntgo/kernel/kd"
	"ntgo/nt/ke"
)

// processorTable builds the ~ rows: this processor (self, its state
// named me) from self, each other started one from stalledCopy, or with
// no registers if it did not answer the stall.
func processorTable(me int, meState string, self kd.Registers) []kd.Processor {
	n := int(startedProcessors())
	ps := make([]kd.Processor, 0, n)
	for i := range n {
		p := kd.Processor{Number: uint32(i), State: "stalled", Registers: stalledCopy[i]}
		if stalledCopyMask&(1<<i) == 0 {
			p.State, p.Registers = "did not answer", kd.Registers{}
		}
		if i == me {
			p.State, p.Registers = meState, self
		}
		p.IRQL = uint8(p.Registers.CR8 & 0xF)
		ps = append(ps, p)
	}
	return ps
}

// liveProcessors is ~ on the running machine: the others held for the
// copy, at HIGH_LEVEL on this processor.
func liveProcessors() ([]kd.Processor, error) {
	ctx, _ := currentContext()
	old := ke.RaiseIrql(ke.HighLevel)
	me := ke.CurrentProcessorNumber()
	stallAndCopy(false)
	ke.LowerIrql(old)
	ctx.Registers.CR8 = uint64(old)
	return processorTable(me, "current", ctx.Registers), nil
}
