package pool

import (
	"fmt"
	"strings"
	"testing"
)

func TestInspect(t *testing.T) {
	tp := newTestPool(t, poolOpts{noLookaside: true, noDelayFree: true})
	a := tp.alloc(t, NonPagedPool, 48, MakeTag("Aaaa"))
	b := tp.alloc(t, NonPagedPool, 48, MakeTag("Bbbb"))
	c := tp.alloc(t, NonPagedPool, 48, MakeTag("Cccc"))
	tp.Free(b, 0)
	r, ok := tp.Inspect(c + 5)
	if !ok || r.Page != a&^pageMask || r.Kind != KindNonPagedNx {
		t.Fatalf("!pool: %v", r)
	}
	// a at the head, the free rest, c, the freed b (tail splits).
	var states []string
	for _, bl := range r.Blocks {
		if bl.Damage != "" {
			t.Fatalf("damage in a sound page:\n%v", r)
		}
		s := bl.State.String() + ":" + bl.Tag.String()
		if bl.Contains {
			s += "*"
		}
		states = append(states, s)
	}
	if got := strings.Join(states, " "); got != "Allocated:Aaaa Free:.... Allocated:Cccc* Free:Bbbb" {
		t.Fatalf("blocks %s\n%v", got, r)
	}
	if !strings.Contains(r.String(), "*") {
		t.Fatalf("report does not mark the block:\n%v", r)
	}
	// Blocks are listed by header, as NT's !pool and BAD_POOL_HEADER name them.
	if marked := fmt.Sprintf("\n*%#x size:", c-HeaderSize); !strings.Contains(r.String(), marked) {
		t.Fatalf("report does not list c by its header %#x:\n%v", c-HeaderSize, r)
	}
	if _, ok := tp.Inspect(uintptr(0x1000)); ok {
		t.Fatal("!pool of a non-pool address")
	}

	// A damaged cookie is reported, and the walk goes on.
	store64(c-HeaderSize+offCheck, 0)
	r, _ = tp.Inspect(a)
	if r.Blocks[2].Damage == "" || len(r.Blocks) != 4 {
		t.Fatalf("cookie damage not reported:\n%v", r)
	}
	// A damaged size ends the walk there, reported, without a bugcheck.
	store8(c-HeaderSize+offBlockSize, 0)
	r, _ = tp.Inspect(a)
	if len(r.Blocks) != 3 || !strings.Contains(r.Blocks[2].Damage, "BlockSize") {
		t.Fatalf("size damage:\n%v", r)
	}
	if !strings.Contains(r.String(), "DAMAGED") {
		t.Fatalf("report hides damage:\n%v", r)
	}
}

func TestFind(t *testing.T) {
	tp := newTestPool(t, poolOpts{})
	want := MakeTag("Find")
	var live []uintptr
	for i := range 20 {
		n := uintptr(30 + i*300)
		va := tp.alloc(t, PoolType([]PoolType{NonPagedPool, PagedPool}[i%2]), n, want)
		tp.alloc(t, NonPagedPool, 40, tagTest)
		if i%3 == 0 {
			tp.Free(va, want)
			continue
		}
		live = append(live, va)
	}
	got := tp.Find(want)
	if len(got) != len(live) {
		t.Fatalf("!poolfind found %d blocks, want %d", len(got), len(live))
	}
	seen := map[uintptr]bool{}
	for _, bl := range got {
		seen[bl.Addr] = true
	}
	for _, va := range live {
		if !seen[va] {
			t.Fatalf("!poolfind missed %#x", va)
		}
	}
}

func TestUsage(t *testing.T) {
	tp := newTestPool(t, poolOpts{noLookaside: true, noDelayFree: true})
	a := tp.alloc(t, PagedPool, 100, tagTest)
	b := tp.alloc(t, PagedPool, 2*pageSize, tagTest)
	u := tp.Usage(KindPaged)
	if u.Pages != 1 || u.BigPages != 2 || u.Allocated != 128+2*pageSize || u.Free != pageSize-128 || u.Cached != 0 {
		t.Fatalf("usage %+v", u)
	}
	tp.Free(a, 0)
	tp.Free(b, 0)
	tp.idle(t)
}
