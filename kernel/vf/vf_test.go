package vf_test

import (
	"strings"
	"testing"
	"unsafe"

	"ntgo/kernel/kd"
	"ntgo/kernel/ldr"
	"ntgo/kernel/vf"
	"ntgo/mm/ex"
	"ntgo/mm/ex/extest"
	"ntgo/mm/object"
	"ntgo/mm/pool"
	"ntgo/mm/verifier"
)

// thisModule is the test package posing as a driver module.
var thisModule = ldr.Module{Name: "vftest", Package: "ntgo/kernel/vf_test"}

// setup verifies the test package (pool tracking) over fresh pools.
func setup(t *testing.T, f verifier.Flags) *pool.System {
	t.Helper()
	p := extest.Setup(t)
	verifier.Init(p, nil, 0)
	fs, end := kd.RuntimeSymbols{}.Functions()
	verifier.SetCode(vf.Spans(fs, end, []ldr.Module{thisModule}))
	if st := verifier.Apply(verifier.Settings{Flags: f, Drivers: []string{thisModule.Name}}); st.IsError() {
		t.Fatal(st)
	}
	t.Cleanup(func() { verifier.Apply(verifier.Settings{}); p.SetVerifier(nil) })
	return p
}

//go:noinline
func allocateHere(tag pool.Tag) unsafe.Pointer {
	return ex.AllocatePoolWithTag(pool.NonPagedPoolNx, 64, tag)
}

type thing struct{ a, b uint64 }

func TestAttributionByCaller(t *testing.T) {
	setup(t, verifier.PoolTracking)
	tag := pool.MakeTag("VfT1")
	mine := allocateHere(tag)                                // ex inlined into this package's code
	viaObject := object.New[thing](pool.NonPagedPoolNx, tag) // through mm/object's generic code
	theirs := vf.AllocateFromVf(tag)                         // package vf: no verified driver's
	got := map[uintptr]verifier.Allocation{}
	for _, a := range verifier.Outstanding(thisModule.Name) {
		got[a.Address] = a
	}
	if a, ok := got[uintptr(mine)]; !ok || a.Tag != tag || a.Size != 64 || !strings.Contains(callerName(a.Caller), "allocateHere") {
		t.Errorf("allocation of the verified module not tracked with its caller: %+v (caller %s)", a, callerName(a.Caller))
	}
	if _, ok := got[uintptr(unsafe.Pointer(viaObject))]; !ok {
		t.Error("object.New from the verified module is not attributed to it")
	}
	if _, ok := got[uintptr(theirs)]; ok || len(got) != 2 {
		t.Errorf("an unverified caller's allocation was attributed: %d tracked", len(got))
	}
	ex.FreePoolWithTag(mine, tag)
	object.DeleteWithTag(viaObject, tag)
	ex.FreePoolWithTag(theirs, tag)
	if n := len(verifier.Outstanding("")); n != 0 {
		t.Errorf("%d allocations still tracked after every free", n)
	}
}

func callerName(pc uintptr) string {
	for _, f := range (kd.RuntimeSymbols{}).Frames(pc - 1) {
		if strings.Contains(f.Function, "allocateHere") {
			return f.Function
		}
	}
	return kd.Symbolize(kd.RuntimeSymbols{}, pc-1)
}

func TestSpansNameDriverModules(t *testing.T) {
	fs := []kd.FunctionEntry{
		{Name: "ntgo/drivers/ramdisk.Load", Entry: 0x100}, {Name: "ntgo/drivers/ramdisk.(*Disk).Unload", Entry: 0x180},
		{Name: "ntgo/mm/object.New[go.shape.struct { a.b uint64 }]", Entry: 0x200}, {Name: "ntgo/kernel/ldr.Load", Entry: 0x280},
		{Name: "ntgo/drivers/other/sub.F", Entry: 0x300},
	}
	got := vf.Spans(fs, 0x400, []ldr.Module{{Name: "rd", Package: "ntgo/drivers/ramdisk"}})
	want := []verifier.Span{
		{Lo: 0x100, Hi: 0x200, Package: "ntgo/drivers/ramdisk", Module: "rd"},
		{Lo: 0x200, Hi: 0x280, Package: "ntgo/mm/object"},
		{Lo: 0x280, Hi: 0x300, Package: "ntgo/kernel/ldr"},
		{Lo: 0x300, Hi: 0x400, Package: "ntgo/drivers/other/sub"},
	}
	if len(got) != len(want) {
		t.Fatalf("Spans = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("span %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParse(t *testing.T) {
	s, err := vf.Parse(strings.Fields("/flags 9 /driver ramdisk notmyfault /underrun /faults 0n250 0n10 /seed 2a"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Flags != verifier.SpecialPool|verifier.PoolTracking|verifier.LowResources || len(s.Drivers) != 2 ||
		!s.Underrun || s.Probability != 250 || s.Grace != 10 || s.Seed != 0x2a {
		t.Errorf("parsed %+v", s)
	}
	for _, bad := range []string{"/driver ramdisk", "/flags 1", "/flags", "/bogus", "/faults 0n20000 /all"} {
		if _, err := vf.Parse(strings.Fields(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if s, err := vf.Parse([]string{"/reset"}); err != nil || s.Flags != 0 {
		t.Errorf("/reset: %+v %v", s, err)
	}
}
