package ntstatus

import "testing"

func TestSeverity(t *testing.T) {
	if !Success.IsSuccess() || Success.IsError() {
		t.Fatal("STATUS_SUCCESS misclassified")
	}
	if InsufficientResources.IsSuccess() || !InsufficientResources.IsError() {
		t.Fatal("STATUS_INSUFFICIENT_RESOURCES misclassified")
	}
	if DatatypeMisalignment.IsSuccess() || DatatypeMisalignment.IsError() {
		t.Fatal("a warning is neither success nor error")
	}
	if got := QuotaExceeded.String(); got != "STATUS_QUOTA_EXCEEDED" {
		t.Fatalf("String = %q", got)
	}
	if got := Status(0xC0FFEE00).String(); got != "NTSTATUS(0xC0FFEE00)" {
		t.Fatalf("String = %q", got)
	}
}

func TestTryCatchesRaise(t *testing.T) {
	var caught *Exception
	ok := Try(func() { Raise(InsufficientResources) }, func(e *Exception) { caught = e })
	if ok || caught == nil || caught.Status != InsufficientResources {
		t.Fatalf("ok=%v caught=%v", ok, caught)
	}
	if !Try(func() {}, func(*Exception) { t.Fatal("except ran without a raise") }) {
		t.Fatal("Try reported a raise for a clean body")
	}
}

func TestTryPassesOtherPanics(t *testing.T) {
	defer func() {
		if r := recover(); r != "not an exception" {
			t.Fatalf("recovered %v", r)
		}
	}()
	Try(func() { panic("not an exception") }, func(*Exception) { t.Fatal("caught a plain panic") })
}
