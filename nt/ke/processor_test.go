package ke

import "testing"

func TestProcessorNumberEx(t *testing.T) {
	var pn ProcessorNumber
	pn.Reserved = 7
	n := GetCurrentProcessorNumberEx(&pn)
	if int(n) != CurrentProcessorNumber() || pn != (ProcessorNumber{Group: 0, Number: uint8(n)}) {
		t.Fatalf("GetCurrentProcessorNumberEx = %d, %+v; CurrentProcessorNumber %d", n, pn, CurrentProcessorNumber())
	}
	if GetCurrentProcessorNumberEx(nil) != n {
		t.Fatal("GetCurrentProcessorNumberEx(nil) differs")
	}
	all := QueryActiveProcessorCountEx(AllProcessorGroups)
	if all < 1 || all > MaximumProcessors || QueryActiveProcessorCountEx(0) != all || QueryActiveProcessorCountEx(1) != 0 {
		t.Fatalf("QueryActiveProcessorCountEx: all %d, group 0 %d, group 1 %d", all, QueryActiveProcessorCountEx(0), QueryActiveProcessorCountEx(1))
	}
	if int(n) >= int(all) {
		t.Fatalf("processor %d of %d", n, all)
	}
}

// TestSystemAffinity: NT's rules on whatever processors this run has (one
// outside the kernel): a mask naming a processor that does not exist
// changes nothing, the previous system affinity comes back, reverting
// balances.
func TestSystemAffinity(t *testing.T) {
	if p := SetSystemAffinityThreadEx(1); p != 0 {
		t.Errorf("first SetSystemAffinityThreadEx returned %#x, want 0 (no system affinity)", p)
	}
	if CurrentProcessorNumber() != 0 {
		t.Errorf("affinity 1: on processor %d", CurrentProcessorNumber())
	}
	if p := SetSystemAffinityThreadEx(1 << 63); p != 1 {
		t.Errorf("nested set returned %#x, want 1", p)
	}
	if got := threadAffinity() & KAffinity(ActiveProcessors()); got != 1 {
		t.Errorf("a mask naming no processor changed the affinity to %#x", got)
	}
	RevertToUserAffinityThreadEx(1)
	RevertToUserAffinityThreadEx(0)
	if p := SetSystemAffinityThreadEx(1); p != 0 {
		t.Errorf("after reverting, SetSystemAffinityThreadEx returned %#x, want 0", p)
	}
	RevertToUserAffinityThreadEx(0)
}
