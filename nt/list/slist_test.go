package list

import (
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// node is an SLIST entry with an ownership flag the stress test checks.
type node struct {
	Entry SListEntry
	owned atomic.Int32
	id    int
}

func nodeOf(e *SListEntry) *node {
	return ContainingRecord[node](e, unsafe.Offsetof(node{}.Entry))
}

// A header at any 8-byte offset works: the routines find the aligned pair.
func TestSListLIFOAtEveryAlignment(t *testing.T) {
	var holder struct {
		pad  [1]uint64
		list [2]SListHeader
	}
	for _, h := range []*SListHeader{&holder.list[0], &holder.list[1]} {
		InitializeSListHead(h)
		nodes := make([]node, 3)
		if InterlockedPopEntrySList(h) != nil || InterlockedFlushSList(h) != nil {
			t.Fatal("empty list gave an entry")
		}
		for i := range nodes {
			prev := InterlockedPushEntrySList(h, &nodes[i].Entry)
			if i > 0 && prev != &nodes[i-1].Entry || i == 0 && prev != nil {
				t.Fatalf("push %d returned %p", i, prev)
			}
		}
		if d := QueryDepthSList(h); d != 3 {
			t.Fatalf("depth %d, want 3", d)
		}
		if e := InterlockedPopEntrySList(h); e != &nodes[2].Entry {
			t.Fatal("pop is not LIFO")
		}
		first := InterlockedFlushSList(h)
		if first != &nodes[1].Entry || first.Next != uintptr(unsafe.Pointer(&nodes[0].Entry)) || nodes[0].Entry.Next != 0 {
			t.Fatal("flush did not return the chain")
		}
		if QueryDepthSList(h) != 0 || InterlockedPopEntrySList(h) != nil {
			t.Fatal("list not empty after flush")
		}
	}
}

// Every operation moves the sequence, so a header that returns to the same
// first entry and depth is still a different value.
func TestSListSequence(t *testing.T) {
	var h SListHeader
	var n node
	w := h.aligned()
	lo0, _ := load(w)
	InterlockedPushEntrySList(&h, &n.Entry)
	InterlockedPopEntrySList(&h)
	lo1, hi1 := load(w)
	if hi1 != 0 || lo1&depthMask != 0 || lo1 == lo0 {
		t.Fatalf("header %#x/%#x after push+pop, was %#x", lo1, hi1, lo0)
	}
	if lo1>>depthBits != lo0>>depthBits+2 {
		t.Fatalf("sequence %d, want %d", lo1>>depthBits, lo0>>depthBits+2)
	}
}

// The depth is 16 bits wide and wraps, as NT's does; the list itself is
// unaffected.
func TestSListDepthWraps(t *testing.T) {
	var h SListHeader
	nodes := make([]node, depthMask+2)
	for i := range nodes {
		InterlockedPushEntrySList(&h, &nodes[i].Entry)
	}
	if d := QueryDepthSList(&h); d != 1 {
		t.Fatalf("depth %d after 2^16+1 pushes, want 1", d)
	}
	n := 0
	for InterlockedPopEntrySList(&h) != nil {
		n++
	}
	if n != len(nodes) {
		t.Fatalf("popped %d of %d", n, len(nodes))
	}
}

// Many goroutines pop and push a shared set of entries. An entry popped by
// two at once, lost, or duplicated fails the test.
func TestSListStress(t *testing.T) {
	const (
		workers = 32
		rounds  = 20000
		entries = 64
	)
	var h SListHeader
	nodes := make([]node, entries)
	for i := range nodes {
		nodes[i].id = i
		InterlockedPushEntrySList(&h, &nodes[i].Entry)
	}
	var wg sync.WaitGroup
	var doubleOwned atomic.Int32
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			const maxHeld = 2
			var held []*node
			for r := range rounds {
				// Hold up to two entries at a time so pushes and pops
				// interleave in every order.
				if e := InterlockedPopEntrySList(&h); e != nil {
					n := nodeOf(e)
					if !n.owned.CompareAndSwap(0, 1) {
						doubleOwned.Add(1)
					}
					held = append(held, n)
				}
				if len(held) == maxHeld || (r+w)%3 == 0 && len(held) > 0 {
					n := held[0]
					held = append(held[:0], held[1:]...)
					n.owned.Store(0)
					InterlockedPushEntrySList(&h, &n.Entry)
				}
			}
			for _, n := range held {
				n.owned.Store(0)
				InterlockedPushEntrySList(&h, &n.Entry)
			}
		}()
	}
	wg.Wait()
	if d := doubleOwned.Load(); d != 0 {
		t.Fatalf("%d pops handed out an entry someone else held", d)
	}
	if d := QueryDepthSList(&h); d != entries {
		t.Fatalf("depth %d, want %d", d, entries)
	}
	seen := make([]bool, entries)
	for e := InterlockedFlushSList(&h); e != nil; e = at[SListEntry](e.Next) {
		n := nodeOf(e)
		if seen[n.id] {
			t.Fatalf("entry %d twice on the list", n.id)
		}
		seen[n.id] = true
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("entry %d lost", i)
		}
	}
}

// BenchmarkSListPushPop is an InterlockedPushEntrySList and
// InterlockedPopEntrySList pair, uncontended.
func BenchmarkSListPushPop(b *testing.B) {
	var h SListHeader
	n := new(node)
	for b.Loop() {
		InterlockedPushEntrySList(&h, &n.Entry)
		InterlockedPopEntrySList(&h)
	}
}
