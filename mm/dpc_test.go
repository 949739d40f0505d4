package mm_test

// The IRQL rules bite inside a DPC: its routine runs at DISPATCH_LEVEL, so
// non-paged pool works there and a paged-pool allocation is BAD_POOL_CALLER
// (0xC2) subtype 8, with DISPATCH_LEVEL and the pool type, as in NT.

import (
	"testing"

	"ntgo/mm/ex"
	"ntgo/mm/pool"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
)

var tagDpc = pool.MakeTag("MmDp")

func TestPoolInsideDpc(t *testing.T) {
	requireBare(t)
	var irql ke.KIRQL
	var nonPagedOK bool
	var rec *bugcheck.Record
	d := new(ke.KDPC)
	ke.InitializeDpc(d, func(*ke.KDPC, uintptr, uintptr, uintptr) {
		irql = ke.CurrentIrql()
		if p := ex.AllocatePoolWithTag(pool.NonPagedPoolNx, 64, tagDpc); p != nil {
			ex.FreePoolWithTag(p, tagDpc)
			nonPagedOK = true
		}
		rec = bugcheck.Catch(func() { ex.AllocatePoolWithTag(pool.PagedPool, 64, tagDpc) })
	}, 0)
	if !ke.InsertQueueDpc(d, 0, 0) {
		t.Fatal("InsertQueueDpc returned false")
	}
	if irql != ke.DispatchLevel || !nonPagedOK {
		t.Fatalf("the DPC ran at %v, non-paged allocation worked: %v", irql, nonPagedOK)
	}
	want := [4]uintptr{pool.CallerAllocIRQL, uintptr(ke.DispatchLevel), uintptr(pool.PagedPool), 64}
	if rec == nil || rec.Code != bugcheck.BadPoolCaller || rec.Params != want {
		t.Errorf("paged pool in a DPC: %v, want BAD_POOL_CALLER %#x", rec, want)
	}
	if l := ke.GetCurrentIrql(); l != ke.PassiveLevel {
		t.Errorf("after the DPC: %v", l)
	}
}
