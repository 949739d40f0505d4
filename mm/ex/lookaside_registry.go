// The registry of drivers' lookaside lists.
//
// NT chains every lookaside list on global lists (ExNPagedLookasideListHead,
// ExPagedLookasideListHead) that the balance-set manager walks once a
// second to adjust depths and the debugger's !lookaside walks to report
// them. ntgo's registry plays both parts and also holds what the list
// structure cannot: the Go callbacks.
//
// A slot holds the list's address, the API that made it and its callbacks.
// The list records its slot as handle (index plus one). A slot is checked
// against the list's address on every use, so a stale handle (a list
// deleted, or copied) is caught rather than followed. Free slots are reused.
//
// Holding *general keeps a list that lives in Go memory alive while it is
// registered; a list in pool memory is the driver's to keep until it
// deletes it, as in NT.
//
// Locking: mu guards slots and freeSlots; misses take it for reading.

package ex

import (
	"sync"
	"unsafe"

	"ntgo/nt/bugcheck"
)

// lookasideAPI names the routine family that initialized a list.
type lookasideAPI uint8

const (
	apiNPaged lookasideAPI = iota // ExInitializeNPagedLookasideList
	apiPaged                      // ExInitializePagedLookasideList
	apiEx                         // ExInitializeLookasideListEx
)

var apiNames = [...]string{apiNPaged: "NPaged", apiPaged: "Paged", apiEx: "Ex"}

func (a lookasideAPI) String() string { return apiNames[a] }

// callbacks are a list's Allocate and Free, adapted to one shape.
type callbacks struct {
	allocate func(g *general) unsafe.Pointer
	free     func(g *general, p unsafe.Pointer)
}

type registration struct {
	list *general // nil for a free slot
	api  lookasideAPI
	cb   callbacks
}

var lookasides struct {
	mu        sync.RWMutex
	slots     []registration
	freeSlots []uint32
}

// register records g and returns its handle.
func register(g *general, api lookasideAPI, cb callbacks) uint32 {
	r := registration{list: g, api: api, cb: cb}
	lookasides.mu.Lock()
	defer lookasides.mu.Unlock()
	if n := len(lookasides.freeSlots); n > 0 {
		i := lookasides.freeSlots[n-1]
		lookasides.freeSlots = lookasides.freeSlots[:n-1]
		lookasides.slots[i] = r
		return i + 1
	}
	lookasides.slots = append(lookasides.slots, r)
	return uint32(len(lookasides.slots))
}

// slotOf is g's slot index; the lock is held. It stops the system if g is
// not registered (see notRegistered).
func slotOf(g *general) uint32 {
	i := g.handle - 1
	if g.handle == 0 || int(i) >= len(lookasides.slots) || lookasides.slots[i].list != g {
		notRegistered(g)
	}
	return i
}

// registered is g's registration.
func registered(g *general) registration {
	lookasides.mu.RLock()
	defer lookasides.mu.RUnlock()
	return lookasides.slots[slotOf(g)]
}

// unregister removes g and returns its callbacks.
func unregister(g *general) callbacks {
	lookasides.mu.Lock()
	defer lookasides.mu.Unlock()
	i := slotOf(g)
	cb := lookasides.slots[i].cb
	lookasides.slots[i] = registration{}
	lookasides.freeSlots = append(lookasides.freeSlots, i)
	return cb
}

// notRegistered stops for a list that was never initialized or was
// deleted: NT would fail the safe unlink of the list's global LIST_ENTRY,
// KERNEL_SECURITY_CHECK_FAILURE type 3. p2 is the list, p3 its handle.
func notRegistered(g *general) {
	bugcheck.KeBugCheckEx(bugcheck.KernelSecurityCheckFailure, bugcheck.FastFailCorruptListEntry,
		uintptrOf(g), uintptr(g.handle), 0)
}

// uintptrOf is g's address, for reports.
func uintptrOf(g *general) uintptr { return uintptr(unsafe.Pointer(g)) }

// eachLookaside calls f for every registered list, under the read lock.
func eachLookaside(f func(r registration)) {
	lookasides.mu.RLock()
	defer lookasides.mu.RUnlock()
	for _, r := range lookasides.slots {
		if r.list != nil {
			f(r)
		}
	}
}

// AdjustLookasideDepths is the balance-set manager's once-a-second pass
// (NT's ExAdjustLookasideDepth): the depth policy of pool.Lookaside over
// every per-processor pool list and every driver list. The kernel calls it
// from a periodic timer.
func AdjustLookasideDepths() {
	sys().pools.AdjustLookasideDepths()
	eachLookaside(func(r registration) { r.list.cache.AdjustDepth() })
}
