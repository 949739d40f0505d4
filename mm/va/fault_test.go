package va_test

import (
	"testing"

	"ntgo/mm/pte"
	"ntgo/mm/pte/ptesim"
	"ntgo/mm/va"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

func TestProtectionMatrix(t *testing.T) {
	type want [3]va.Result // read, write, execute; Resolved = allowed
	ok, np, ro, nx := va.Resolved, va.NotPresent, va.WriteToReadonly, va.ExecuteNoExecute
	for p, w := range map[va.PageProtection]want{
		va.PageNoAccess:         {np, np, np},
		va.PageReadOnly:         {ok, ro, nx},
		va.PageReadWrite:        {ok, ok, nx},
		va.PageExecuteRead:      {ok, ro, ok},
		va.PageExecuteReadWrite: {ok, ok, ok},
	} {
		for _, resident := range []bool{false, true} {
			e := newEnv(t)
			base := e.alloc(0, pageSize, va.MemReserve|va.MemCommit, va.PageReadWrite)
			if resident {
				e.mustTouch(base, pte.AccessWrite)
			}
			e.space.Protect(base, pageSize, p)
			for a := pte.AccessRead; a <= pte.AccessExecute; a++ {
				_, f := e.touch(base, a)
				got := va.Resolved
				if f != nil {
					got = f.Result
				}
				if got != w[a] {
					t.Errorf("%#x resident=%v %v: %v, want %v", p, resident, a, got, w[a])
				}
			}
			e.check()
		}
	}
}

func TestFaultBugcheckParams(t *testing.T) {
	e := newEnv(t)
	base := e.alloc(0, 2*pageSize, va.MemReserve|va.MemCommit, va.PageReadOnly)
	e.mustTouch(base, pte.AccessRead)
	valid := e.leaf(base)

	f := e.mustFault(base, pte.AccessWrite, va.WriteToReadonly)
	code, p, fatal := f.Bugcheck(0xfff)
	if !fatal || code != bugcheck.AttemptedWriteToReadonlyMemory || p != [4]uintptr{base, uintptr(valid), 0, 0} {
		t.Fatalf("0xBE: %v %#x", code, p)
	}
	f = e.mustFault(base+pageSize, pte.AccessExecute, va.ExecuteNoExecute)
	code, p, _ = f.Bugcheck(0xfff)
	if code != bugcheck.AttemptedExecuteOfNoexecuteMemory || p != [4]uintptr{base + pageSize, uintptr(pte.DemandZero(pte.ProtReadOnly)), 0, 0} {
		t.Fatalf("0xFC: %v %#x", code, p)
	}
	for a, param := range map[pte.Access]uintptr{pte.AccessRead: 0, pte.AccessWrite: 1, pte.AccessExecute: 0x10} {
		f = e.mustFault(base+4*pageSize, a, va.NotPresent)
		code, p, _ = f.Bugcheck(0x4242)
		if code != bugcheck.PageFaultInNonpagedArea || p != [4]uintptr{base + 4*pageSize, param, 0x4242, 0} {
			t.Fatalf("0x50 %v: %v %#x", a, code, p)
		}
		if st, ok := f.Exception(); !ok || st != ntstatus.AccessViolation {
			t.Fatalf("exception %v %v", st, ok)
		}
	}
	// The kernel's bugcheck path, end to end.
	rec := bugcheck.Catch(func() {
		if code, p, fatal := f.Bugcheck(0x4242); fatal {
			bugcheck.KeBugCheckEx(code, p[0], p[1], p[2], p[3])
		}
	})
	if rec == nil || rec.Code != bugcheck.PageFaultInNonpagedArea || rec.Params[0] != base+4*pageSize {
		t.Fatalf("KeBugCheckEx: %v", rec)
	}
}

func TestGuardPageOneShot(t *testing.T) {
	e := newEnv(t)
	base := e.alloc(0, pageSize, va.MemReserve|va.MemCommit, va.PageReadWrite|va.PageGuard)
	f := e.mustFault(base, pte.AccessRead, va.GuardPage)
	if st, ok := f.Exception(); !ok || st != ntstatus.GuardPageViolation {
		t.Fatalf("guard exception %v", st)
	}
	if _, _, fatal := f.Bugcheck(0); fatal {
		t.Fatal("a guard page is not fatal")
	}
	if e.leaf(base) != pte.DemandZero(pte.ProtReadWrite) || e.m.Frames.Count(ptesim.Page) != 0 {
		t.Fatalf("after the guard fault: %v", e.leaf(base))
	}
	e.mustTouch(base, pte.AccessWrite)
	e.m.MMU.Write64(base, 77)

	// GUARD on a resident page: the page leaves the TLB and the tables
	// (transition), trips once, then comes back with its contents.
	e.space.Protect(base, pageSize, va.PageReadOnly|va.PageGuard)
	if l := e.leaf(base); l.Kind() != pte.KindTransition {
		t.Fatalf("guarded resident page: %v", l)
	}
	e.mustFault(base, pte.AccessWrite, va.GuardPage)
	e.mustFault(base, pte.AccessWrite, va.WriteToReadonly)
	if v, _, ok := e.m.MMU.Read64(base); ok {
		t.Fatalf("transition page readable without a fault: %#x", v)
	}
	pa := e.mustTouch(base, pte.AccessRead)
	if e.m.Mem.Load64(pa) != 77 || e.m.Frames.Count(ptesim.Page) != 1 {
		t.Fatal("soft fault lost the contents or took a new frame")
	}
	e.check()
}

func TestNoAccessKeepsContents(t *testing.T) {
	e := newEnv(t)
	base := e.alloc(0, pageSize, va.MemReserve|va.MemCommit, va.PageReadWrite)
	e.mustTouch(base, pte.AccessWrite)
	e.m.MMU.Write64(base+16, 0x5151)
	old, _ := e.space.Protect(base, pageSize, va.PageNoAccess)
	if old != va.PageReadWrite {
		t.Fatalf("old protection %#x", old)
	}
	e.mustFault(base, pte.AccessRead, va.NotPresent)
	e.space.Protect(base, pageSize, va.PageReadOnly)
	if v, _, ok := e.m.MMU.Read64(base + 16); ok {
		t.Fatalf("read before the soft fault: %#x", v)
	}
	if pa := e.mustTouch(base+16, pte.AccessRead); e.m.Mem.Load64(pa) != 0x5151 {
		t.Fatal("contents lost across NOACCESS")
	}
	// Decommit returns a transition page's frame too.
	e.space.Protect(base, pageSize, va.PageNoAccess)
	e.space.Free(base, pageSize, va.MemDecommit)
	if e.m.Frames.Count(ptesim.Page) != 0 {
		t.Fatal("transition frame not freed by decommit")
	}
	e.check()
}

func TestSpuriousFault(t *testing.T) {
	e := newEnv(t)
	base := e.alloc(0, pageSize, va.MemReserve|va.MemCommit, va.PageReadOnly)
	e.mustTouch(base, pte.AccessRead) // the TLB now holds a read-only entry
	// Another CPU (here: a raw store) made the page writable without
	// flushing this CPU's TLB.
	pa, _, _ := e.m.MMU.Translate(pte.PteAddress(base), pte.AccessWrite)
	e.m.Mem.Store64(pa, e.m.Mem.Load64(pa)|uint64(pte.Write))
	_, code, ok := e.m.MMU.Translate(base, pte.AccessWrite)
	if ok {
		t.Fatal("stale TLB entry expected to refuse the write")
	}
	if f := va.ResolveFault(e.m.PT, e.m.Frames, base, code); f.Result != va.Spurious {
		t.Fatalf("result %v", f.Result)
	}
	if _, _, ok := e.m.MMU.Translate(base, pte.AccessWrite); !ok {
		t.Fatal("write still refused after a spurious fault")
	}
}

func TestNoMemoryFault(t *testing.T) {
	e := newEnv(t)
	base := e.alloc(0, pageSize, va.MemReserve|va.MemCommit, va.PageReadWrite)
	e.m.Frames.Limit = e.m.Frames.Count(ptesim.Table)
	f := e.mustFault(base, pte.AccessRead, va.NoMemory)
	code, p, fatal := f.Bugcheck(0)
	if !fatal || code != bugcheck.KernelDataInpageError || p != [4]uintptr{pte.PteAddress(base), uintptr(ntstatus.NoMemory), base, 0} {
		t.Fatalf("0x7A: %v %#x", code, p)
	}
	if _, ok := f.Exception(); ok {
		t.Fatal("no memory is not an exception")
	}
	if e.leaf(base) != pte.DemandZero(pte.ProtReadWrite) {
		t.Fatal("a failed fault changed the PTE")
	}
}

func TestCorruptPteFault(t *testing.T) {
	e := newEnv(t)
	base := e.alloc(0, pageSize, va.MemReserve|va.MemCommit, va.PageReadWrite)
	f := va.ResolveFault(e.m.PT, e.m.Frames, base, pte.ErrPresent|pte.ErrReserved)
	code, p, _ := f.Bugcheck(0)
	if f.Result != va.CorruptPte || code != bugcheck.MemoryManagement || p != [4]uintptr{pte.CorruptPte, pte.PteAddress(base), uintptr(f.PTE), 0} {
		t.Fatalf("%v: %v %#x", f.Result, code, p)
	}
}

func TestLargePageFault(t *testing.T) {
	e := newEnv(t)
	// A read-only 2 MiB page the boot path might have made, in an empty PD slot.
	base := e.alloc(0, pageSize, va.MemReserve, va.PageReadOnly)
	large := base + 2<<20
	pa, _, _ := e.m.MMU.Translate(pte.PdeAddress(large), pte.AccessWrite)
	e.m.Mem.Store64(pa, uint64((pte.Present | pte.PS | pte.NX).WithFrame(0x200)))
	if r := e.mustFault(large, pte.AccessWrite, va.WriteToReadonly); r.PTE.Frame() != 0x200 {
		t.Fatalf("fault reports %v", r.PTE)
	}
	if f := va.ResolveFault(e.m.PT, e.m.Frames, large, 0); f.Result != va.Spurious {
		t.Fatalf("read of a readable large page: %v", f.Result)
	}
}

func TestResultNames(t *testing.T) {
	if va.WriteToReadonly.String() != "write to read-only" || va.Result(99).String() != "unknown result" {
		t.Fatal(va.WriteToReadonly.String())
	}
}

// BenchmarkDemandZeroFault is one demand-zero fault resolved on the
// simulated machine: leaf lookup through the self-map, a zeroed frame, the
// valid PTE written back.
func BenchmarkDemandZeroFault(b *testing.B) {
	e := newEnv(b)
	const pages = 512
	base := e.alloc(0, pages*pageSize, va.MemReserve|va.MemCommit, va.PageReadWrite)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p := uintptr(i % pages)
		if p == 0 && i > 0 {
			b.StopTimer()
			e.space.Free(base, 0, va.MemDecommit)
			e.alloc(base, pages*pageSize, va.MemCommit, va.PageReadWrite)
			b.StartTimer()
		}
		if f := va.ResolveFault(e.m.PT, e.m.Frames, base+p*pageSize, pte.ErrWrite); f.Result != va.Resolved {
			b.Fatalf("page %d: %v", p, f.Result)
		}
	}
}
