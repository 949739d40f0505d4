package securepool_test

// The secure pool's allocator and header checks over the simulated MMU:
// contents, validation, update, free and destroy; writes from outside the
// pool fault; the alias never outlives a call; forged and damaged headers
// are refused or stop the system.

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"ntgo/mm/layout"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/mm/pte/ptesim"
	"ntgo/mm/securepool"
	"ntgo/mm/securepool/simpages"
	"ntgo/nt/bugcheck"
)

const (
	regionPages = 64
	alias       = layout.HyperSpaceStart + 2*physmem.PageSize
)

var tagA, tagB = pool.MakeTag("SecA"), pool.MakeTag("SecB")

type rig struct {
	m     *ptesim.Machine
	pages *simpages.Pages
	s     *securepool.System
	base  int // page frames in use before the System took any
}

func newRig(t testing.TB) *rig {
	t.Helper()
	m := ptesim.New(512)
	t.Cleanup(m.Close)
	p := simpages.New(m, layout.SecurePoolStart, regionPages, alias)
	return &rig{m: m, pages: p, s: securepool.New(p, 0x5EC0DE), base: m.Frames.Count(ptesim.Page)}
}

// read is n bytes at va, read through the MMU.
func (r *rig) read(va uintptr, n int) []byte {
	b := make([]byte, n)
	r.pages.Read(va, b)
	return b
}

// aliasIdle fails t unless the alias is back to idle and no TLB entry
// still translates it.
func (r *rig) aliasIdle(t *testing.T) {
	t.Helper()
	if e, _ := r.m.PT.Leaf(alias); e != pte.Reserved {
		t.Fatalf("alias PTE is %v after the call", e)
	}
	if _, _, ok := r.m.MMU.Translate(alias, pte.AccessWrite); ok {
		t.Fatal("the alias still translates after the call (TLB entry not flushed)")
	}
	if r.pages.AliasLeft {
		t.Fatal("a Write found the alias still mapped")
	}
}

func TestLifecycle(t *testing.T) {
	r := newRig(t)
	h := r.s.Create(tagA)
	data := []byte("the driver's secret configuration")
	p, f := r.s.Allocate(h, uintptr(len(data)), tagA, data, 0xC00C1E, securepool.Freeable|securepool.Modifiable)
	if f != securepool.OK {
		t.Fatalf("Allocate: %v", f)
	}
	r.aliasIdle(t)
	if base, size := r.pages.Region(); p < base || p >= base+size {
		t.Fatalf("block %#x outside the secure region", p)
	}
	if got := r.read(p, len(data)); !bytes.Equal(got, data) {
		t.Fatalf("contents %q, want %q", got, data)
	}
	if f := r.s.Validate(h, tagA, p, 0xC00C1E); f != securepool.OK {
		t.Fatalf("Validate with the right cookie: %v", f)
	}
	for _, c := range []struct {
		h      securepool.Handle
		tag    pool.Tag
		va     uintptr
		cookie uint64
		want   securepool.Fault
	}{
		{h, tagA, p, 0xBAD, securepool.WrongCookie},
		{h, tagB, p, 0xC00C1E, securepool.WrongTag},
		{h + 1, tagA, p, 0xC00C1E, securepool.BadHandle},
		{h, tagA, p + 16, 0xC00C1E, securepool.BadHeader},
		{h, tagA, p + 1, 0xC00C1E, securepool.NotInPool},
		{h, tagA, layout.NonPagedPoolStart + 0x40, 0xC00C1E, securepool.NotInPool},
	} {
		if f := r.s.Validate(c.h, c.tag, c.va, c.cookie); f != c.want {
			t.Errorf("Validate(%#x, %v, %#x, %#x) = %v, want %v", c.h, c.tag, c.va, c.cookie, f, c.want)
		}
	}
	if f := r.s.Update(h, tagA, p, 0xC00C1E, 4, []byte("DRIVER")); f != securepool.OK {
		t.Fatalf("Update: %v", f)
	}
	r.aliasIdle(t)
	if got, want := r.read(p, len(data)), []byte("the DRIVER's secret configuration"); !bytes.Equal(got[:len(want)], want) {
		t.Fatalf("after Update %q, want %q", got, want)
	}
	if f := r.s.Update(h, tagA, p, 0xC00C1E, uintptr(len(data))-2, []byte("xyz")); f != securepool.OutOfRange {
		t.Fatalf("Update past the end: %v", f)
	}
	if f := r.s.Free(h, tagA, p, 0xBAD); f != securepool.WrongCookie {
		t.Fatalf("Free with a wrong cookie: %v", f)
	}
	if f := r.s.Free(h, tagA, p, 0xC00C1E); f != securepool.OK {
		t.Fatalf("Free: %v", f)
	}
	r.aliasIdle(t)
	if n := r.s.PagesInUse(); n != 0 {
		t.Fatalf("%d pages held after the last free", n)
	}
	if f := r.s.Destroy(h); f != securepool.OK {
		t.Fatalf("Destroy: %v", f)
	}
	if f := r.s.Destroy(h); f != securepool.BadHandle {
		t.Fatalf("second Destroy: %v", f)
	}
	if h2 := r.s.Create(tagA); h2 == h {
		t.Fatal("a destroyed pool's handle was handed out again")
	}
}

func TestFlagsAreKept(t *testing.T) {
	r := newRig(t)
	h := r.s.Create(tagA)
	keep, _ := r.s.Allocate(h, 64, tagA, make([]byte, 64), 1, securepool.Freeable)
	fixed, _ := r.s.Allocate(h, 64, tagA, make([]byte, 64), 2, 0)
	if f := r.s.Update(h, tagA, fixed, 2, 0, []byte{1}); f != securepool.NotModifiable {
		t.Fatalf("Update of a block without MODIFIABLE: %v", f)
	}
	if f := r.s.Free(h, tagA, fixed, 2); f != securepool.NotFreeable {
		t.Fatalf("Free of a block without FREEABLE: %v", f)
	}
	other, _ := r.s.Allocate(h, 64, tagA, make([]byte, 64), 3, securepool.Freeable)
	if f := r.s.Free(h, tagA, other, 3); f != securepool.OK {
		t.Fatal(f)
	}
	if f := r.s.Free(h, tagA, other, 3); f != securepool.NotAllocated {
		t.Fatalf("double free: %v", f)
	}
	h2 := r.s.Create(tagB)
	if f := r.s.Validate(h2, tagA, keep, 1); f != securepool.NotInPool {
		t.Fatalf("another pool's block validated against h2: %v", f)
	}
}

// A write from outside the pool, to a body or a header, faults as a write
// to a read-only page; the pool's own writes do not.
func TestOutsideWritesFault(t *testing.T) {
	r := newRig(t)
	h := r.s.Create(tagA)
	p, _ := r.s.Allocate(h, 100, tagA, make([]byte, 100), 7, securepool.Modifiable)
	for _, va := range []uintptr{p, p - 32, p + 96} {
		code, ok := r.pages.Store(va&^7, 0xBADC0DE)
		if ok {
			t.Fatalf("a plain write to %#x went through", va)
		}
		if !code.Present() || code.Access() != pte.AccessWrite {
			t.Fatalf("write to %#x: #PF %v, want a protection fault on a write", va, code)
		}
	}
	if f := r.s.Validate(h, tagA, p, 7); f != securepool.OK {
		t.Fatalf("after the refused writes: %v", f)
	}
	// The page's PTE is what refuses it: read-only and no-execute.
	e, _ := r.m.PT.Leaf(p)
	if e&pte.Write != 0 || e&pte.NX == 0 {
		t.Fatalf("secure page PTE %v, want read-only NX", e)
	}
}

// A header copied into a block's body (where the owner may write, through
// Update) is no header: its check is bound to its address.
func TestForgedHeaderRefused(t *testing.T) {
	r := newRig(t)
	h := r.s.Create(tagA)
	victim, _ := r.s.Allocate(h, 32, tagA, make([]byte, 32), 9, securepool.Freeable)
	forger, _ := r.s.Allocate(h, 256, tagA, make([]byte, 256), 9, securepool.Modifiable|securepool.Freeable)
	hdr := r.read(victim-32, 32)
	if f := r.s.Update(h, tagA, forger, 9, 64, hdr); f != securepool.OK {
		t.Fatal(f)
	}
	fake := forger + 64 + 32
	for name, f := range map[string]securepool.Fault{
		"Validate": r.s.Validate(h, tagA, fake, 9),
		"Free":     r.s.Free(h, tagA, fake, 9),
	} {
		if f != securepool.BadHeader {
			t.Errorf("%s of a copied header: %v, want BadHeader", name, f)
		}
	}
}

// A header damaged behind the page tables' back (as code editing PTEs or
// CR0 could) fails its check: named by a caller it is refused, met by the
// allocator's walk it stops the system with BAD_POOL_HEADER.
func TestDamagedHeader(t *testing.T) {
	r := newRig(t)
	h := r.s.Create(tagA)
	p, _ := r.s.Allocate(h, 48, tagA, make([]byte, 48), 5, securepool.Freeable)
	pa, ok := r.m.PT.Translate(p - 32 + 16)
	if !ok {
		t.Fatal("block not mapped")
	}
	r.m.Mem.Store64(pa, r.m.Mem.Load64(pa)^0x100) // the tag's low byte
	if f := r.s.Validate(h, tagA, p, 5); f != securepool.BadHeader {
		t.Fatalf("Validate of a damaged header: %v", f)
	}
	rec := bugcheck.Catch(func() { r.s.Allocate(h, 48, tagA, make([]byte, 48), 5, 0) })
	if rec == nil || rec.Code != bugcheck.BadPoolHeader || rec.Params[0] != securepool.CheckFailed || rec.Params[1] != p-32 {
		t.Fatalf("allocating past a damaged header: %v, want BAD_POOL_HEADER %#x at %#x", rec, securepool.CheckFailed, p-32)
	}
}

func TestBigBlocksAndDestroy(t *testing.T) {
	r := newRig(t)
	h := r.s.Create(tagA)
	big := bytes.Repeat([]byte("0123456789abcdef"), 700) // 11200 bytes: three pages with the header
	p, f := r.s.Allocate(h, uintptr(len(big)), tagA, big, 1, securepool.Freeable)
	if f != securepool.OK {
		t.Fatal(f)
	}
	var got []byte
	for off := 0; off < len(big); off += 1000 {
		got = append(got, r.read(p+uintptr(off), min(1000, len(big)-off))...)
	}
	if !bytes.Equal(got, big) {
		t.Fatal("big block contents differ")
	}
	if n := r.s.PagesInUse(); n != 3 {
		t.Fatalf("big block holds %d pages, want 3", n)
	}
	for i := 0; i < 40; i++ {
		if _, f := r.s.Allocate(h, 200, tagB, make([]byte, 200), uint64(i), 0); f != securepool.OK {
			t.Fatal(f)
		}
	}
	im := r.s.Capture()
	if found := im.Find(tagB); len(found) != 40 {
		t.Fatalf("!poolfind SecB: %d blocks, want 40", len(found))
	}
	rep, ok := im.Inspect(p + 5000)
	if !ok || len(rep.Blocks) != 1 || !rep.Blocks[0].Contains || !strings.Contains(rep.String(), "secure: handle") {
		t.Fatalf("!pool of the big block: %v %v", ok, rep)
	}
	if f := r.s.Destroy(h); f != securepool.OK {
		t.Fatal(f)
	}
	if n := r.pages.InUse(); n != 0 {
		t.Fatalf("%d pages still mapped after Destroy", n)
	}
	if n := r.m.Frames.Count(ptesim.Page); n != r.base {
		t.Fatalf("%d page frames in use after Destroy, %d before", n, r.base)
	}
	for _, ti := range r.s.Tags() {
		if ti.Counts.Bytes != 0 || ti.Counts.Allocs != ti.Counts.Frees {
			t.Fatalf("tag %v after Destroy: %+v", ti.Tag, ti.Counts)
		}
	}
	if err := r.m.Check(nil); err != nil {
		t.Fatal(err)
	}
}

func TestExhaustion(t *testing.T) {
	r := newRig(t)
	h := r.s.Create(tagA)
	if _, f := r.s.Allocate(h, regionPages*physmem.PageSize, tagA, nil, 0, 0); f != securepool.NoMemory {
		t.Fatalf("a block larger than the region: %v", f)
	}
	if n := r.pages.InUse(); n != 0 {
		t.Fatalf("%d pages left after a failed allocation", n)
	}
}

// A freed block's space is reused, and freeing never grows an allocated
// neighbour: the block before keeps its extent.
func TestFreeSpaceReused(t *testing.T) {
	r := newRig(t)
	h := r.s.Create(tagA)
	a, _ := r.s.Allocate(h, 64, tagA, make([]byte, 64), 1, securepool.Freeable)
	b, _ := r.s.Allocate(h, 64, tagA, make([]byte, 64), 2, securepool.Freeable)
	if f := r.s.Free(h, tagA, b, 2); f != securepool.OK {
		t.Fatal(f)
	}
	rep, _ := r.s.Capture().Inspect(a)
	if len(rep.Blocks) == 0 || rep.Blocks[0].Bytes != 96 {
		t.Fatalf("after freeing its neighbour the first block spans %v", rep)
	}
	c, _ := r.s.Allocate(h, 64, tagA, make([]byte, 64), 3, securepool.Freeable)
	if c != b || r.s.PagesInUse() != 1 {
		t.Fatalf("the freed block at %#x was not reused: new block at %#x, %d pages", b, c, r.s.PagesInUse())
	}
}

// Routines called from several goroutines at once are serialized by the
// System: every block keeps its data and validates (run with -race too).
func TestConcurrentCallers(t *testing.T) {
	r := newRig(t)
	h := r.s.Create(tagA)
	done := make(chan error)
	for g := range 4 {
		go func() {
			for i := range 100 {
				data := bytes.Repeat([]byte{byte(g*16 + i%16)}, 40+g*8)
				cookie := uint64(g<<16 | i)
				p, f := r.s.Allocate(h, uintptr(len(data)), tagA, data, cookie, securepool.Freeable)
				if f == securepool.OK {
					f = r.s.Validate(h, tagA, p, cookie)
				}
				if f == securepool.OK {
					f = r.s.Free(h, tagA, p, cookie)
				}
				if f != securepool.OK {
					done <- fmt.Errorf("goroutine %d, round %d: %v", g, i, f)
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := r.s.PagesInUse(); n != 0 {
		t.Fatalf("%d pages held after every block was freed", n)
	}
}
