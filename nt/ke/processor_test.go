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
