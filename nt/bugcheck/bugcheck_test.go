package bugcheck

import "testing"

func TestCatchReturnsRecord(t *testing.T) {
	rec := Catch(func() { KeBugCheckEx(BadPoolCaller, 7, 0x1234, 0, 0xdead) })
	if rec == nil {
		t.Fatal("no bugcheck caught")
	}
	if rec.Code != BadPoolCaller || rec.Params != [4]uintptr{7, 0x1234, 0, 0xdead} {
		t.Fatalf("record %+v", rec)
	}
	if rec.PC == 0 {
		t.Fatal("caller PC not recorded")
	}
	if Catch(func() {}) != nil {
		t.Fatal("Catch invented a bugcheck")
	}
}

func TestNames(t *testing.T) {
	for code, want := range map[Code]string{
		BadPoolCaller:                     "BAD_POOL_CALLER",
		PfnListCorrupt:                    "PFN_LIST_CORRUPT",
		PageFaultInNonpagedArea:           "PAGE_FAULT_IN_NONPAGED_AREA",
		KernelSecurityCheckFailure:        "KERNEL_SECURITY_CHECK_FAILURE",
		AttemptedExecuteOfNoexecuteMemory: "ATTEMPTED_EXECUTE_OF_NOEXECUTE_MEMORY",
	} {
		if code.Name() != want {
			t.Errorf("%#x: %q, want %q", uint32(code), code.Name(), want)
		}
	}
	if got := BadPoolCaller.String(); got != "0x000000C2 BAD_POOL_CALLER" {
		t.Errorf("String = %q", got)
	}
}
