package mm_test

// Secure pools on the machine: the kernel's secure region, read-only NX
// PTEs with CR0.WP on, the alias torn down after every call, and after
// ExDestroyPool the frames free, the pages unmapped and the counters
// (secure pages, commit charge, system PTEs) at their baseline. The write
// that stops with 0xBE is the console test's (notmyfault secure-write).

import (
	"bytes"
	"testing"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

var secureTestTag = pool.MakeTag("SecK")

func secureParams(h uintptr, buf unsafe.Pointer, cookie uintptr, flags uint32) []ex.PoolExtendedParameter {
	return []ex.PoolExtendedParameter{{Type: ex.PoolExtendedParameterSecurePool,
		SecurePoolParams: &ex.PoolExtendedParamsSecurePool{SecurePoolHandle: h, Buffer: buf, Cookie: cookie, SecurePoolFlags: flags}}}
}

func TestSecurePoolOnTheMachine(t *testing.T) {
	requireBare(t)
	if !mm.WriteProtected() {
		t.Fatal("CR0.WP is off: ring 0 would write through read-only PTEs")
	}
	pages := mm.SecurePoolPages()
	basePages, basePtes, baseCommit := pages.InUse(), mm.SystemPtes.Free(), mm.VMReport().Counters.CommittedPages
	var h uintptr
	if st := ex.CreatePool(ex.PoolCreateFlgSecurePool|ex.PoolCreateFlgUseGlobalPool, uintptr(secureTestTag), nil, &h); st != ntstatus.Success {
		t.Fatalf("ExCreatePool: %v", st)
	}
	secret := []byte("a driver's secret, kept read-only")
	big := bytes.Repeat([]byte{0xA5}, 3*physmem.PageSize)
	var blocks []unsafe.Pointer
	for _, init := range [][]byte{secret, big, secret} {
		p := ex.AllocatePool3(ex.PoolFlagNonPaged, uintptr(len(init)), secureTestTag,
			secureParams(h, unsafe.Pointer(&init[0]), 0x5EC, ex.SecurePoolFlagsFreeable|ex.SecurePoolFlagsModifiable))
		if p == nil {
			t.Fatal("secure allocation failed")
		}
		if !mm.SecureAliasIdle() {
			t.Fatal("the writable alias is still mapped after ExAllocatePool3")
		}
		if got := unsafe.Slice((*byte)(p), len(init)); !bytes.Equal(got, init) {
			t.Fatal("the block does not hold its initial data")
		}
		blocks = append(blocks, p)
	}
	var frames []physmem.PFN
	for _, p := range blocks[:2] {
		if r, ok := layout.Find(uintptr(p)); !ok || r.ID != layout.SecurePool {
			t.Fatalf("block %p outside the secure-pool region", p)
		}
		for off := uintptr(0); off < uintptr(len(big)); off += physmem.PageSize {
			_, e := mm.Tables.Lookup(uintptr(p) + off).Last()
			if !e.Valid() {
				break
			}
			if e&pte.Write != 0 || e&pte.NX == 0 {
				t.Fatalf("secure page %#x has PTE %v, want read-only no-execute", uintptr(p)+off, e)
			}
			frames = append(frames, e.Frame())
		}
	}
	p := blocks[0]
	if !ex.SecurePoolValidate(h, secureTestTag, p, 0x5EC) || ex.SecurePoolValidate(h, secureTestTag, p, 0x5ED) {
		t.Fatal("validate: right cookie refused or wrong cookie accepted")
	}
	patch := []byte("DRIVER")
	if st := ex.SecurePoolUpdate(h, secureTestTag, p, 0x5EC, 2, uintptr(len(patch)), unsafe.Pointer(&patch[0])); st != ntstatus.Success {
		t.Fatalf("ExSecurePoolUpdate: %v", st)
	}
	if !mm.SecureAliasIdle() {
		t.Fatal("the writable alias is still mapped after ExSecurePoolUpdate")
	}
	if got := string(unsafe.Slice((*byte)(p), 12)); got != "a DRIVER's s" {
		t.Fatalf("after the update %q", got)
	}
	ex.FreePool2(blocks[1], secureTestTag, []ex.PoolExtendedParameter{{Type: ex.PoolExtendedParameterSecurePool,
		SecurePoolParams: &ex.PoolExtendedParamsSecurePool{SecurePoolHandle: h, Cookie: 0x5EC}}})
	ex.DestroyPool(h)
	for _, f := range frames {
		info, _ := mm.PFN.Decode(f)
		if info.State == pfn.StateActive {
			t.Fatalf("frame %#x still active after ExDestroyPool", f)
		}
	}
	if _, e := mm.Tables.Lookup(uintptr(p)).Last(); e.Valid() {
		t.Fatalf("%p still mapped after ExDestroyPool: %v", p, e)
	}
	if n, ptes, commit := pages.InUse(), mm.SystemPtes.Free(), mm.VMReport().Counters.CommittedPages; n != basePages || ptes != basePtes || commit != baseCommit {
		t.Fatalf("after ExDestroyPool: %d secure pages, %d free system PTEs, commit %d; before: %d, %d, %d",
			n, ptes, commit, basePages, basePtes, baseCommit)
	}
}

// A secure block's life allocates nothing from the Go heap once the pool
// holds its page (no collector work per call).
func TestSecurePoolAllocatesNothing(t *testing.T) {
	requireBare(t)
	var h uintptr
	if st := ex.CreatePool(ex.PoolCreateFlgSecurePool, uintptr(secureTestTag), nil, &h); st != ntstatus.Success {
		t.Fatal(st)
	}
	defer ex.DestroyPool(h)
	buf := make([]byte, 64)
	alloc := secureParams(h, unsafe.Pointer(&buf[0]), 1, ex.SecurePoolFlagsFreeable)
	free := secureParams(h, nil, 1, 0)
	held := ex.AllocatePool3(ex.PoolFlagNonPaged, 64, secureTestTag, alloc)
	life := func() {
		p := ex.AllocatePool3(ex.PoolFlagNonPaged, 64, secureTestTag, alloc)
		ex.SecurePoolValidate(h, secureTestTag, p, 1)
		ex.FreePool2(p, secureTestTag, free)
	}
	life()
	if n := testing.AllocsPerRun(100, func() { ex.SecurePoolValidate(h, secureTestTag, held, 1) }); n != 0 {
		t.Errorf("ExSecurePoolValidate: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, life); n != 0 {
		t.Errorf("allocate, validate, free: %v allocations", n)
	}
}
