package ke

// The dispatch pin around a bugcheck that a test catches at raised IRQL
// (kernel only: the panic hooks are the kernel's).

import (
	"testing"

	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
)

// The panic unwinds at PASSIVE_LEVEL and unpinned (the runtime forbids a
// pinned panic, and an unpinned goroutine left at DISPATCH_LEVEL could be
// switched out there), and Catch's caller goes on at the level it raised
// to, pinned again.
func TestCaughtBugcheckKeepsTheCallersIrql(t *testing.T) {
	if !arch.Bare() {
		t.Skip("the panic hooks are the kernel's")
	}
	for _, level := range []KIRQL{DispatchLevel, HighLevel} {
		var unwound KIRQL
		var unwoundPinned bool
		old := RaiseIrql(level)
		rec := bugcheck.Catch(func() {
			defer func() {
				unwound, unwoundPinned = GetCurrentIrql(), processors[CurrentProcessorNumber()].pinned
			}()
			bugcheck.KeBugCheckEx(bugcheck.IrqlNotLessOrEqual, 1, 2, 3, 4)
		})
		after, afterPinned := GetCurrentIrql(), processors[CurrentProcessorNumber()].pinned
		LowerIrql(old)
		if rec == nil || rec.Code != bugcheck.IrqlNotLessOrEqual {
			t.Errorf("at %v: caught %v", level, rec)
		}
		if unwound != PassiveLevel || unwoundPinned {
			t.Errorf("raised at %v, the panic unwound at %v (pinned %v), want PASSIVE_LEVEL unpinned", level, unwound, unwoundPinned)
		}
		if after != level || !afterPinned {
			t.Errorf("raised at %v, Catch returned at %v (pinned %v)", level, after, afterPinned)
		}
	}
}
