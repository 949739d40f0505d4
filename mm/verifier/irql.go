// IRQL checking.
//
// For a verified driver (force IRQL checking, special pool or pool
// tracking on) the calls NT's Verifier checks stop with 0xC4's subcodes
// instead of the plain pool's BAD_POOL_CALLER, parameters as NT's:
//
//	0x00  zero-byte allocation          IRQL, pool type, 0
//	0x01  paged allocation above APC    IRQL, pool type, size
//	0x02  any allocation above DISPATCH IRQL, pool type, size
//	0x11  paged free above APC          IRQL, pool type, address
//	0x12  nonpaged free above DISPATCH  IRQL, pool type, address
//	0x30  KeRaiseIrql to a lower level  IRQL, requested, 0
//	0x31  KeLowerIrql to a higher level IRQL, requested, 0
//
// A verified raise to DISPATCH_LEVEL or above (force IRQL checking) first
// trims all pageable system memory from the working set, so that a touch
// of paged memory at the raised level faults, IRQL_NOT_LESS_OR_EQUAL,
// every time and not only when the page happened to be out. The trim is
// the working set's (mm.TrimAllPageable, the paging work); TrimAllPageable
// is nil until the kernel wires it, and a raise then counts as having had
// nothing to trim.

package verifier

import (
	"ntgo/mm/pool"
	"ntgo/nt/ke"
)

// TrimAllPageable trims every pageable system page from the working set
// and returns how many it trimmed; nil: nothing to trim (yet).
var TrimAllPageable func() (pages int)

// checkAllocation applies NT's allocation checks to a verified call.
func checkAllocation(t pool.PoolType, n uintptr) {
	irql := ke.CurrentIrql()
	switch {
	case n == 0:
		violation(zeroByteAllocation, uintptr(irql), uintptr(t), 0)
	case irql > ke.DispatchLevel:
		violation(nonPagedAllocIrql, uintptr(irql), uintptr(t), n)
	case pool.KindOf(t).Paged() && irql > ke.ApcLevel:
		violation(pagedAllocationIrql, uintptr(irql), uintptr(t), n)
	}
}

// checkFree applies NT's free checks to a verified call.
func checkFree(va uintptr, t pool.PoolType) {
	irql := ke.CurrentIrql()
	switch {
	case pool.KindOf(t).Paged() && irql > ke.ApcLevel:
		violation(pagedFreeIrql, uintptr(irql), uintptr(t), va)
	case irql > ke.DispatchLevel:
		violation(nonPagedFreeIrql, uintptr(irql), uintptr(t), va)
	}
}

// irqlHooks is the ke.IrqlVerifier installed while verifying.
type irqlHooks struct{}

// Raise implements ke.IrqlVerifier.
func (irqlHooks) Raise(cur, req ke.KIRQL) {
	if settings().Flags&ForceIrqlChecking == 0 {
		return
	}
	if d, _ := verifiedCaller(); d == "" {
		return
	}
	if req < cur || req > ke.HighLevel {
		violation(raiseIrqlInvalid, uintptr(cur), uintptr(req), 0)
	}
	if req >= ke.DispatchLevel && cur < ke.DispatchLevel {
		trim()
	}
}

// Lower implements ke.IrqlVerifier.
func (irqlHooks) Lower(cur, req ke.KIRQL) {
	if settings().Flags&ForceIrqlChecking == 0 {
		return
	}
	if d, _ := verifiedCaller(); d != "" && req > cur {
		violation(lowerIrqlInvalid, uintptr(cur), uintptr(req), 0)
	}
}

// trim empties the working set of pageable memory before a raise.
func trim() {
	f := TrimAllPageable
	if f == nil {
		counters.NothingToTrim.Add(1)
		return
	}
	counters.RaisesTrimmed.Add(1)
	counters.PagesTrimmed.Add(uint64(f()))
}
