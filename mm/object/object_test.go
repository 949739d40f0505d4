package object

import (
	"reflect"
	"sync"
	"testing"
	"unsafe"

	"ntgo/mm/ex"
	"ntgo/mm/ex/extest"
	"ntgo/mm/pool"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
	"ntgo/nt/list"
	"ntgo/nt/ntstatus"
)

var tagObj = pool.MakeTag("ObTs")

func setup(tb testing.TB) *pool.System { return extest.Setup(tb) }

func outstanding(p *pool.System, tag pool.Tag) int64 {
	st, _ := p.PoolUsed(tag)
	return st.Outstanding()
}

// counted records constructor and destructor calls.
var calls struct {
	sync.Mutex
	inits, destroys int
}

func resetCalls() {
	calls.Lock()
	calls.inits, calls.destroys = 0, 0
	calls.Unlock()
}

func counts() (int, int) {
	calls.Lock()
	defer calls.Unlock()
	return calls.inits, calls.destroys
}

// widget is a 64-byte pool object with a constructor and a destructor.
type widget struct {
	ready   bool
	value   uint64
	payload [6]uint64
	Link    list.ListEntry
}

func (w *widget) Init() {
	calls.Lock()
	calls.inits++
	calls.Unlock()
	if w.value != 0 {
		panic("Init saw a non-zero object")
	}
	w.ready = true
}

func (w *widget) Destroy() {
	calls.Lock()
	calls.destroys++
	calls.Unlock()
	w.ready = false
}

// plain has neither constructor nor destructor.
type plain struct{ a, b uint32 }

func TestNewDelete(t *testing.T) {
	p := setup(t)
	resetCalls()
	w := New[widget](pool.NonPagedPool, tagObj)
	if w == nil || !w.ready {
		t.Fatalf("New gave %+v", w)
	}
	if got := unsafe.Sizeof(*w); got != 80 {
		t.Fatalf("sizeof(widget) = %d", got)
	}
	if n, _ := ex.QueryPoolBlockSize(unsafe.Pointer(w)); n < unsafe.Sizeof(*w) {
		t.Fatalf("block of %d bytes for a %d-byte object", n, unsafe.Sizeof(*w))
	}
	if outstanding(p, tagObj) != 1 {
		t.Fatal("allocation not counted under the tag")
	}
	Delete(w)
	if i, d := counts(); i != 1 || d != 1 {
		t.Fatalf("Init ran %d times, Destroy %d", i, d)
	}
	if outstanding(p, tagObj) != 0 {
		t.Fatal("free not counted under the tag")
	}
	Delete[widget](nil)
	q := New[plain](pool.PagedPool, tagObj)
	if q == nil || *q != (plain{}) {
		t.Fatalf("plain New gave %+v", q)
	}
	wrong := pool.MakeTag("Nope")
	rec := bugcheck.Catch(func() { DeleteWithTag(q, wrong) })
	if rec == nil || rec.Params != [4]uintptr{pool.CallerTagMismatch, uintptr(unsafe.Pointer(q)), uintptr(tagObj), uintptr(wrong)} {
		t.Fatalf("DeleteWithTag with the wrong tag: %v", rec)
	}
	DeleteWithTag(q, tagObj)
}

// New zeroes what an earlier object left; NewUninitialized does not. The
// per-processor lookaside hands the same block back.
func TestZeroing(t *testing.T) {
	setup(t)
	w := New[plain](pool.NonPagedPool, tagObj)
	addr := unsafe.Pointer(w)
	const mark = 0xA5A5A5A5
	Delete(w)
	u := NewUninitialized[plain](pool.NonPagedPool, tagObj)
	if unsafe.Pointer(u) != addr {
		t.Fatal("block not reused")
	}
	u.a, u.b = mark, mark
	Delete(u)
	z := New[plain](pool.NonPagedPool, tagObj)
	if unsafe.Pointer(z) != addr || *z != (plain{}) {
		t.Fatalf("New gave %+v at %p", z, z)
	}
	Delete(z)
	y := NewWithPriority[plain](pool.NonPagedPool, tagObj, pool.LowPoolPriority)
	if *y != (plain{}) {
		t.Fatalf("NewWithPriority gave %+v", y)
	}
	Delete(y)
}

func TestNewFailure(t *testing.T) {
	setup(t)
	type huge struct{ pages [extest.Pages + 1][4096]byte }
	if New[huge](pool.NonPagedPool, tagObj) != nil {
		t.Fatal("impossible New succeeded")
	}
	var st ntstatus.Status
	ntstatus.Try(func() { New[huge](pool.NonPagedPool|pool.PoolRaiseIfAllocationFailure, tagObj) },
		func(e *ntstatus.Exception) { st = e.Status })
	if st != ntstatus.InsufficientResources {
		t.Fatalf("raise variant raised %v", st)
	}
	ntstatus.Try(func() { NewFlags[huge](ex.PoolFlagNonPaged|ex.PoolFlagRaiseOnFailure, tagObj) },
		func(e *ntstatus.Exception) { st = e.Status })
	if st != ntstatus.InsufficientResources {
		t.Fatalf("NewFlags raise raised %v", st)
	}
}

// On one node (a NUMA kernel's table is put back after).
func TestNewFlagsNode(t *testing.T) {
	setup(t)
	saved := ke.SaveProcessorNodes()
	t.Cleanup(func() { ke.RestoreProcessorNodes(saved) })
	if !ke.SetProcessorNodes([]uint32{0}, 0) {
		t.Fatal("SetProcessorNodes refused")
	}
	node := func(n uint32, optional bool) ex.PoolExtendedParameter {
		return ex.PoolExtendedParameter{Type: ex.PoolExtendedParameterNumaNode, PreferredNode: n, Optional: optional}
	}
	w := NewFlags[widget](ex.PoolFlagPaged, tagObj, node(0, false))
	if w == nil || !w.ready {
		t.Fatal("node 0 refused")
	}
	Delete(w)
	if NewFlags[widget](ex.PoolFlagPaged, tagObj, node(1, false)) != nil {
		t.Fatal("required node 1 granted on a one-node machine")
	}
	w = NewFlags[widget](ex.PoolFlagPaged, tagObj, node(1, true))
	if w == nil {
		t.Fatal("optional node 1 failed the allocation")
	}
	Delete(w)
}

// Types that hold Go pointers are refused with the path to the field.
func TestGoPointersRefused(t *testing.T) {
	setup(t)
	type inner struct {
		ok   uint64
		name string
	}
	type withPointer struct{ p *int }
	type withSlice struct {
		n   int
		buf []byte
	}
	type nested struct {
		hdr   uint32
		items [4]inner
	}
	type withUnsafe struct{ p unsafe.Pointer }
	type withIface struct{ v any }
	type withMap struct{ m map[int]int }
	type withChan struct{ c chan int }
	type withFunc struct{ f func() }
	type withPointerArray struct{ p [1]*widget }
	for _, c := range []struct {
		alloc func()
		path  string
		kind  reflect.Kind
	}{
		{func() { New[withPointer](pool.NonPagedPool, tagObj) }, "object.withPointer.p", reflect.Pointer},
		{func() { New[withSlice](pool.NonPagedPool, tagObj) }, "object.withSlice.buf", reflect.Slice},
		{func() { NewArray[nested](pool.NonPagedPool, tagObj, 2) }, "object.nested.items[].name", reflect.String},
		{func() { New[withUnsafe](pool.NonPagedPool, tagObj) }, "object.withUnsafe.p", reflect.UnsafePointer},
		{func() { New[withIface](pool.NonPagedPool, tagObj) }, "object.withIface.v", reflect.Interface},
		{func() { New[withMap](pool.NonPagedPool, tagObj) }, "object.withMap.m", reflect.Map},
		{func() { New[withChan](pool.NonPagedPool, tagObj) }, "object.withChan.c", reflect.Chan},
		{func() { New[withFunc](pool.NonPagedPool, tagObj) }, "object.withFunc.f", reflect.Func},
		{func() { Construct[withPointerArray](nil) }, "object.withPointerArray.p[]", reflect.Pointer},
		{func() { New[*widget](pool.NonPagedPool, tagObj) }, "*object.widget", reflect.Pointer},
	} {
		for range 2 { // the cached verdict refuses again
			err := refused(c.alloc)
			if err == nil || err.Path != c.path || err.Kind != c.kind {
				t.Fatalf("want refusal at %s (%v), got %v", c.path, c.kind, err)
			}
		}
	}
	if n := outstanding(ex.Pools(), tagObj); n != 0 {
		t.Fatalf("refused types allocated %d blocks", n)
	}
}

func refused(f func()) (err *TypeError) {
	defer func() {
		if r := recover(); r != nil {
			err = r.(*TypeError)
		}
	}()
	f()
	return nil
}

// Pool pointers, links, locks and nested lookaside lists are allowed.
func TestPoolSafeTypesAccepted(t *testing.T) {
	setup(t)
	type node struct {
		next  Ptr[widget]
		raw   uintptr
		links [2]list.ListEntry
		slist list.SListHeader
		mu    sync.Mutex
		cache Lookaside[widget]
		ratio float64
	}
	n := New[node](pool.NonPagedPool, tagObj)
	if n == nil || !n.next.IsNil() || n.next.Get() != nil {
		t.Fatal("pool-safe type refused or not zeroed")
	}
	w := New[widget](pool.NonPagedPool, tagObj)
	n.next = PtrTo(w)
	if n.next.Get() != w {
		t.Fatal("Ptr does not round-trip")
	}
	Delete(n.next.Get())
	Delete(n)
}

func TestArrays(t *testing.T) {
	p := setup(t)
	resetCalls()
	s := NewArray[widget](pool.PagedPool, tagObj, 5)
	if len(s) != 5 {
		t.Fatalf("len %d", len(s))
	}
	for i := range s {
		if !s[i].ready {
			t.Fatalf("element %d not constructed", i)
		}
	}
	DeleteArray(s[:2]) // the recorded count, not the slice's length, is destroyed
	if i, d := counts(); i != 5 || d != 5 {
		t.Fatalf("%d constructed, %d destroyed; want 5 and 5", i, d)
	}
	if outstanding(p, tagObj) != 0 {
		t.Fatal("array not freed")
	}
	empty := NewArray[widget](pool.PagedPool, tagObj, 0)
	if empty == nil || len(empty) != 0 {
		t.Fatal("zero-length array")
	}
	DeleteArray(empty)
	DeleteArray[widget](nil)

	// Overflow fails cleanly, or raises with the raise bit.
	const tooMany = int(^uint(0) >> 1)
	if NewArray[widget](pool.PagedPool, tagObj, tooMany) != nil {
		t.Fatal("overflowing array allocated")
	}
	var st ntstatus.Status
	ntstatus.Try(func() { NewArray[widget](pool.PagedPool|pool.PoolRaiseIfAllocationFailure, tagObj, tooMany) },
		func(e *ntstatus.Exception) { st = e.Status })
	if st != ntstatus.InsufficientResources {
		t.Fatalf("overflow raised %v", st)
	}
	ntstatus.Try(func() { NewArray[widget](pool.PagedPool, tagObj, -1) }, func(e *ntstatus.Exception) { st = e.Status })
	if st != ntstatus.InvalidParameter {
		t.Fatalf("negative count raised %v", st)
	}
}

// DeleteArray of anything NewArray did not return stops the system.
func TestDeleteArrayMisuse(t *testing.T) {
	setup(t)
	goSlice := make([]plain, 4)
	rec := bugcheck.Catch(func() { DeleteArray(goSlice) })
	if rec == nil || rec.Code != bugcheck.BadPoolCaller || rec.Params[0] != pool.CallerNeverInPool {
		t.Fatalf("Go slice: %v", rec)
	}
	// A pool block that is no array: the check word does not open.
	mem := ex.AllocatePoolZero(pool.NonPagedPool, 64, tagObj)
	forged := unsafe.Slice((*plain)(unsafe.Add(mem, arrayHeaderSize)), 2)
	rec = bugcheck.Catch(func() { DeleteArray(forged) })
	if rec == nil || rec.Params != [4]uintptr{pool.CallerInvalidAddress, uintptr(unsafe.Pointer(&forged[0])), 0, 0} {
		t.Fatalf("forged array: %v", rec)
	}
	ex.FreePool(mem)
}

func TestConstructDestruct(t *testing.T) {
	setup(t)
	resetCalls()
	mem := ex.AllocatePoolWithTag(pool.NonPagedPool, unsafe.Sizeof(widget{}), tagObj)
	clearTo(mem, unsafe.Sizeof(widget{}), 0xFF)
	w := Construct[widget](mem)
	if unsafe.Pointer(w) != mem || !w.ready || w.payload != [6]uint64{} {
		t.Fatalf("Construct gave %+v", w)
	}
	Destruct(w)
	if i, d := counts(); i != 1 || d != 1 || w.ready {
		t.Fatalf("inits %d destroys %d", i, d)
	}
	ex.FreePool(mem)
}

func clearTo(p unsafe.Pointer, n uintptr, b byte) {
	for i := range unsafe.Slice((*byte)(p), n) {
		unsafe.Slice((*byte)(p), n)[i] = b
	}
}

func TestTypedLookaside(t *testing.T) {
	p := setup(t)
	resetCalls()
	var l Lookaside[widget]
	if st := l.Init(pool.NonPagedPool, 0, tagObj); st != ntstatus.Success {
		t.Fatal(st)
	}
	w := l.Allocate()
	w.value = 42
	l.Free(w)
	again := l.Allocate()
	if again != w || again.value != 0 || !again.ready {
		t.Fatalf("reused entry %+v, want a fresh object at the same address", again)
	}
	l.Free(again)
	if i, d := counts(); i != 2 || d != 2 {
		t.Fatalf("inits %d destroys %d", i, d)
	}
	out := l.Allocate()
	l.Delete()
	if outstanding(p, tagObj) != 1 {
		t.Fatal("delete should leave only the object still out")
	}
	Delete(out)
	if outstanding(p, tagObj) != 0 {
		t.Fatal("object still out after Delete")
	}
}
