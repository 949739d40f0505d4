// Pool tracking: a verified driver's outstanding allocations.
//
// Every allocation the verifier serves for a verified driver is recorded
// with its tag, size, pool type and the return address into the driver
// (special-pool blocks in the special pool's own records, the rest here)
// until it is freed. `!verifier` lists them; a driver that unloads with
// records left stops with DRIVER_VERIFIER_DETECTED_VIOLATION 0x62, as NT's
// pool tracking does, when the driver is verified with pool tracking or
// special pool (special-pool blocks are tracked by construction).

package verifier

import (
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"

	"ntgo/mm/pool"
)

// record is one tracked allocation.
type record struct {
	driver string
	caller uintptr
	tag    pool.Tag
	size   uintptr
	typ    pool.PoolType
}

// tracked are the normal-pool allocations of verified drivers, by
// address, under trackMu. Every free while anything is verified asks
// whether its block is tracked; trackedSlots counts the tracked addresses
// by a hash of each, so that the usual answer, no, is one atomic load
// without the lock (a slot at 0 holds none of them).
var (
	trackMu      sync.Mutex
	tracked      = map[uintptr]record{}
	trackedSlots [trackSlots]atomic.Int32
)

const trackSlotBits = 14
const trackSlots = 1 << trackSlotBits

// trackSlot is va's slot: Fibonacci hashing of the 16-byte unit.
func trackSlot(va uintptr) *atomic.Int32 {
	return &trackedSlots[uint64(va>>4)*0x9E3779B97F4A7C15>>(64-trackSlotBits)]
}

func track(va uintptr, r record) {
	trackMu.Lock()
	if _, dup := tracked[va]; !dup {
		trackSlot(va).Add(1)
	}
	tracked[va] = r
	trackMu.Unlock()
}

func untrack(va uintptr) (record, bool) {
	if trackSlot(va).Load() == 0 {
		return record{}, false
	}
	trackMu.Lock()
	defer trackMu.Unlock()
	r, ok := tracked[va]
	if ok {
		delete(tracked, va)
		trackSlot(va).Add(-1)
	}
	return r, ok
}

// Allocation is one outstanding allocation of a verified driver.
type Allocation struct {
	Driver  string
	Address uintptr
	Tag     pool.Tag
	Size    uintptr
	Type    pool.PoolType
	Caller  uintptr // return address into the driver
	Special bool
	// Underrun: a special-pool block against a guard page before it
	// (else after it).
	Underrun bool
}

// Outstanding is the verified drivers' allocations not yet freed (driver
// "" for all), by address.
func Outstanding(driver string) []Allocation {
	var out []Allocation
	trackMu.Lock()
	for va, r := range tracked {
		if driver == "" || r.driver == driver {
			out = append(out, Allocation{Driver: r.driver, Address: va, Tag: r.tag, Size: r.size, Type: r.typ, Caller: r.caller})
		}
	}
	trackMu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	for _, b := range state.special.live() {
		if driver == "" || b.driver == driver {
			out = append(out, Allocation{Driver: b.driver, Address: b.va, Tag: b.tag, Size: b.size, Type: b.typ, Caller: b.caller,
				Special: true, Underrun: b.underrun})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// DriverUnloading is the unload check (kernel/ldr calls it before a module
// leaves the list): a verified driver with pool tracking or special pool
// that still has allocations stops with 0xC4 0x62: the driver's name, 0,
// the number of allocations not freed.
func DriverUnloading(name string) {
	s := settings()
	if s.Flags&(PoolTracking|SpecialPool) == 0 || !s.verifies(name) {
		return
	}
	if n := len(Outstanding(name)); n > 0 {
		violation(unloadWithAllocations, uintptr(unsafe.Pointer(unsafe.StringData(name))), 0, uintptr(n))
	}
}

// The 0xC4 subcodes ntgo raises (NT's values).
const (
	zeroByteAllocation    = 0x00
	pagedAllocationIrql   = 0x01
	nonPagedAllocIrql     = 0x02
	pagedFreeIrql         = 0x11
	nonPagedFreeIrql      = 0x12
	raiseIrqlInvalid      = 0x30
	lowerIrqlInvalid      = 0x31
	unloadWithAllocations = 0x62
)
