// DPCs: queued from PASSIVE_LEVEL one runs at once at DISPATCH_LEVEL; from
// DISPATCH_LEVEL it waits for the drop below it; importance orders the
// queue; a queued DPC is not queued twice and can be removed.

package ke

import (
	"testing"

	"ntgo/nt/bugcheck"
)

type dpcRun struct {
	ctx, a1, a2 uintptr
	irql        KIRQL
}

// recorder returns a DPC routine appending each run to *runs.
func recorder(runs *[]dpcRun) func(*KDPC, uintptr, uintptr, uintptr) {
	return func(_ *KDPC, ctx, a1, a2 uintptr) {
		*runs = append(*runs, dpcRun{ctx, a1, a2, CurrentIrql()})
	}
}

func TestDpcRunsAtDispatchLevel(t *testing.T) {
	runs := make([]dpcRun, 0, 4) // the routine appends without allocating
	d := new(KDPC)
	InitializeDpc(d, recorder(&runs), 7)
	if !InsertQueueDpc(d, 1, 2) {
		t.Fatal("InsertQueueDpc on an idle DPC returned false")
	}
	if len(runs) != 1 || runs[0] != (dpcRun{7, 1, 2, DispatchLevel}) {
		t.Fatalf("queued at PASSIVE_LEVEL: runs %+v, want one at DISPATCH_LEVEL with 7, 1, 2", runs)
	}
	if l := CurrentIrql(); l != PassiveLevel {
		t.Errorf("after the DPC ran: %v", l)
	}

	old := RaiseIrql(DispatchLevel)
	cpu := CurrentProcessorNumber() // DISPATCH_LEVEL keeps this goroutine here
	InsertQueueDpc(d, 3, 4)
	if InsertQueueDpc(d, 5, 6) {
		t.Error("a queued DPC was queued again")
	}
	depth := DpcQueueDepth(cpu)
	LowerIrql(old)
	if len(runs) != 2 || runs[1] != (dpcRun{7, 3, 4, DispatchLevel}) || depth != 1 || DpcQueueDepth(cpu) != 0 {
		t.Errorf("queued at DISPATCH_LEVEL on processor %d: depth %d there (want 1); after lowering runs %+v, depth %d",
			cpu, depth, runs, DpcQueueDepth(cpu))
	}
}

func TestDpcImportanceAndRemove(t *testing.T) {
	order := make([]uintptr, 0, 4)
	routine := func(_ *KDPC, ctx, _, _ uintptr) { order = append(order, ctx) }
	var ds [4]*KDPC
	for i := range ds {
		ds[i] = new(KDPC)
		InitializeDpc(ds[i], routine, uintptr(i))
	}
	SetImportanceDpc(ds[2], HighImportance)
	old := RaiseIrql(DispatchLevel)
	for _, d := range ds {
		InsertQueueDpc(d, 0, 0)
	}
	if !RemoveQueueDpc(ds[3]) || RemoveQueueDpc(ds[3]) {
		t.Error("RemoveQueueDpc: want true for the queued DPC, then false")
	}
	LowerIrql(old)
	if want := []uintptr{2, 0, 1}; len(order) != len(want) || order[0] != 2 || order[1] != 0 || order[2] != 1 {
		t.Errorf("ran %v, want %v (high importance first, the removed one not at all)", order, want)
	}
	if RemoveQueueDpc(ds[0]) {
		t.Error("RemoveQueueDpc of a DPC that ran returned true")
	}
}

// A DPC that queues itself again runs again in the same drain.
func TestDpcRequeuesItself(t *testing.T) {
	n := 0
	d := new(KDPC)
	InitializeDpc(d, func(d *KDPC, _, _, _ uintptr) {
		if n++; n < 3 {
			InsertQueueDpc(d, 0, 0)
		}
	}, 0)
	InsertQueueDpc(d, 0, 0)
	if n != 3 {
		t.Errorf("ran %d times, want 3", n)
	}
}

func TestDpcReturningAtAnotherIrqlStops(t *testing.T) {
	d := new(KDPC)
	InitializeDpc(d, func(*KDPC, uintptr, uintptr, uintptr) { setIrql(PassiveLevel) }, 0)
	rec := bugcheck.Catch(func() { InsertQueueDpc(d, 0, 0) })
	setIrql(PassiveLevel)
	if rec == nil || rec.Code != bugcheck.IrqlNotGreaterOrEqual || rec.Params[1] != uintptr(PassiveLevel) || rec.Params[3] != dpcAddress(d) {
		t.Errorf("DPC returned at PASSIVE_LEVEL: %v, want IRQL_NOT_GREATER_OR_EQUAL (0, 0, 0, the KDPC)", rec)
	}
}

func TestDpcTargetOutOfRangeStops(t *testing.T) {
	rec := bugcheck.Catch(func() { SetTargetProcessorDpc(new(KDPC), MaximumProcessors) })
	if rec == nil || rec.Code != bugcheck.InvalidAffinitySet {
		t.Errorf("target %d: %v, want INVALID_AFFINITY_SET", MaximumProcessors, rec)
	}
}
