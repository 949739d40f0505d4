package list

import (
	"testing"
	"unsafe"

	"ntgo/nt/bugcheck"
)

// item is a structure chained through an embedded link, as drivers do.
type item struct {
	value int
	Link  ListEntry
}

var linkOffset = unsafe.Offsetof(item{}.Link)

func itemOf(e *ListEntry) *item { return ContainingRecord[item](e, linkOffset) }

// values walks head forward and backward and checks both directions agree.
func values(t *testing.T, head *ListEntry) []int {
	t.Helper()
	var fwd, back []int
	for e := head.Next(); e != head; e = e.Next() {
		fwd = append(fwd, itemOf(e).value)
	}
	for e := head.Prev(); e != head; e = e.Prev() {
		back = append([]int{itemOf(e).value}, back...)
	}
	if len(fwd) != len(back) {
		t.Fatalf("forward %v, backward %v", fwd, back)
	}
	for i := range fwd {
		if fwd[i] != back[i] {
			t.Fatalf("forward %v, backward %v", fwd, back)
		}
	}
	return fwd
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func newItems(n int) []item {
	items := make([]item, n)
	for i := range items {
		items[i].value = i
	}
	return items
}

func TestListOrder(t *testing.T) {
	items := newItems(4)
	head := new(ListEntry)
	InitializeListHead(head)
	// On an empty list NT's RemoveHeadList and RemoveTailList return the
	// head itself and leave the list empty and sound.
	if !IsListEmpty(head) || RemoveHeadList(head) != head || RemoveTailList(head) != head || !IsListEmpty(head) {
		t.Fatal("removing from an empty list did not return its head")
	}
	InsertTailList(head, &items[1].Link)
	InsertTailList(head, &items[2].Link)
	InsertHeadList(head, &items[0].Link)
	InsertTailList(head, &items[3].Link)
	if got := values(t, head); !equal(got, []int{0, 1, 2, 3}) {
		t.Fatalf("list %v", got)
	}
	if e := RemoveHeadList(head); itemOf(e) != &items[0] {
		t.Fatalf("RemoveHeadList gave %v", itemOf(e).value)
	}
	if e := RemoveTailList(head); itemOf(e) != &items[3] {
		t.Fatalf("RemoveTailList gave %v", itemOf(e).value)
	}
	if RemoveEntryList(&items[1].Link) {
		t.Fatal("RemoveEntryList reported empty with one entry left")
	}
	if got := values(t, head); !equal(got, []int{2}) {
		t.Fatalf("list %v", got)
	}
	if !RemoveEntryList(&items[2].Link) || !IsListEmpty(head) {
		t.Fatal("removing the last entry did not empty the list")
	}
}

// ContainingRecord is the inverse of taking a field's address.
func TestContainingRecord(t *testing.T) {
	it := &item{value: 7}
	if got := ContainingRecord[item](&it.Link, linkOffset); got != it {
		t.Fatalf("ContainingRecord = %p, want %p", got, it)
	}
	if ContainingRecord[item, ListEntry](nil, linkOffset) != nil {
		t.Fatal("nil entry gave a record")
	}
}

// corruption runs f and checks it stopped with KERNEL_SECURITY_CHECK_FAILURE
// type 3 for entry e with the given bad link.
func corruption(t *testing.T, what string, e *ListEntry, bad uintptr, f func()) {
	t.Helper()
	rec := bugcheck.Catch(f)
	want := [4]uintptr{bugcheck.FastFailCorruptListEntry, addr(e), bad, 0}
	if rec == nil || rec.Code != bugcheck.KernelSecurityCheckFailure || rec.Params != want {
		t.Fatalf("%s: bugcheck %v, want 0x139 %#x", what, rec, want)
	}
}

func TestDoubleRemove(t *testing.T) {
	items := newItems(3)
	head := new(ListEntry)
	InitializeListHead(head)
	for i := range items {
		InsertTailList(head, &items[i].Link)
	}
	RemoveEntryList(&items[1].Link)
	// items[1] still names its old neighbours, which now point past it.
	corruption(t, "double remove", &items[1].Link, addr(&items[0].Link), func() { RemoveEntryList(&items[1].Link) })
	if got := values(t, head); !equal(got, []int{0, 2}) {
		t.Fatalf("list changed by the failed remove: %v", got)
	}
}

func TestCorruptLinks(t *testing.T) {
	const stray = 0xDEAD0
	setup := func() (*ListEntry, []item) {
		items := newItems(2)
		head := new(ListEntry)
		InitializeListHead(head)
		InsertTailList(head, &items[0].Link)
		InsertTailList(head, &items[1].Link)
		return head, items
	}
	head, items := setup()
	items[0].Link.Blink = addr(&items[1].Link) // first entry no longer points back at the head
	corruption(t, "insert at head", head, addr(&items[1].Link), func() { InsertHeadList(head, new(ListEntry)) })
	corruption(t, "remove head", &items[0].Link, addr(&items[1].Link), func() { RemoveHeadList(head) })

	head, items = setup()
	items[1].Link.Flink = addr(&items[0].Link)
	corruption(t, "insert at tail", head, addr(&items[0].Link), func() { InsertTailList(head, new(ListEntry)) })
	corruption(t, "remove tail", &items[1].Link, addr(&items[0].Link), func() { RemoveTailList(head) })

	// A stray write over a neighbour's back link stops a remove.
	head, items = setup()
	items[1].Link.Blink = stray
	corruption(t, "remove entry", &items[0].Link, stray, func() { RemoveEntryList(&items[0].Link) })
}

// A head declared as a local must survive the stack moving: escape keeps it
// on the heap.
func TestLocalHeadSurvivesStackGrowth(t *testing.T) {
	items := newItems(3)
	var head ListEntry
	InitializeListHead(&head)
	for i := range items {
		InsertTailList(&head, &items[i].Link)
	}
	growStack(1000)
	if got := values(t, &head); !equal(got, []int{0, 1, 2}) {
		t.Fatalf("list %v after the stack grew", got)
	}
	RemoveEntryList(&items[1].Link)
}

//go:noinline
func growStack(n int) byte {
	var pad [256]byte
	if n == 0 {
		return pad[0]
	}
	pad[n%len(pad)] = byte(n)
	return growStack(n-1) + pad[(n+1)%len(pad)]
}

func TestSingleList(t *testing.T) {
	var head SingleListEntry
	es := make([]SingleListEntry, 3)
	if PopEntryList(&head) != nil {
		t.Fatal("empty list popped an entry")
	}
	for i := range es {
		PushEntryList(&head, &es[i])
	}
	for i := len(es) - 1; i >= 0; i-- {
		if e := PopEntryList(&head); e != &es[i] {
			t.Fatalf("pop %p, want LIFO %p", e, &es[i])
		}
	}
	if head.Next != 0 {
		t.Fatal("list not empty after popping everything")
	}
}
