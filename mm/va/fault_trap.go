// Page-fault resolution.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The kernel's #PF handler calls ResolveFault with interrupts off on the per-CPU stack, holding the
// page-table lock. It only reads the leaf PTE (pte.PageTables.Leaf) and
// rewrites it (Replace); it never allocates or frees a table and never
// reads the VAD list. Its indirect calls — the Tables and Flusher behind the
// PageTables, and the PageSource — must, in the kernel, obey the same rules
// (pte.SelfMap and pte.CPUFlusher do; the PFN database must).
//
// The leaf alone decides (see va.go):
//
//	RSVD in the error code           CorruptPte    the tables are damaged
//	no table, free, reserved,
//	  unknown encoding               NotPresent
//	present, access allowed          Spurious      a stale TLB entry: flushed
//	demand-zero / transition, GUARD  GuardPage     guard cleared (one-shot)
//	protection denies the access     NOACCESS or a denied read: NotPresent;
//	                                 a write: WriteToReadonly; a fetch:
//	                                 ExecuteNoExecute
//	demand-zero                      Resolved      a zeroed frame mapped with
//	                                               the PTE's protection
//	                                 NoMemory      no frame to be had
//	transition                       Resolved      the kept frame mapped again
//
// A denied access is reported the same way whether the page is resident or
// not yet: a write to a read-only demand-zero page is as much a write to
// read-only memory as one to a resident page. What the kernel does with a
// result is disposition_trap.go's Bugcheck and Exception.
//
// Trap-context safe, in this package: ResolveFault, Fault.Bugcheck,
// Fault.Exception, Result.String. In mm/pte: PageTables.Leaf, Replace and
// FlushPage, FlushBatch, the PTE accessors and constructors marked nosplit,
// SelfMap and CPUFlusher. Nothing else in either package is.

package va

import (
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

// Result is ResolveFault's decision.
type Result uint8

// The results. Resolved and Spurious mean: return and retry the instruction.
const (
	Resolved         Result = iota // a demand-zero or transition page was made valid
	Spurious                       // the PTE already allowed the access; its TLB entry was flushed
	GuardPage                      // a guard page was touched; the guard is now clear
	NotPresent                     // nothing committed and accessible there
	WriteToReadonly                // a write to a page that does not allow writes
	ExecuteNoExecute               // an instruction fetch from a non-executable page
	NoMemory                       // a demand-zero page found no free frame
	CorruptPte                     // the CPU found a reserved bit set on the path
	InPage                         // a pageable page in the paging file, or being read: the faulting goroutine must wait for the read (mm/paging)
)

// Fault is a resolved or classified page fault. It holds no pointers.
type Fault struct {
	Result Result
	VA     uintptr
	Access pte.Access
	// PTE is the leaf as the fault found it (the large-page entry, if one
	// maps VA; zero if no table holds VA's leaf).
	PTE pte.PTE
}

// ResolveFault handles a kernel page fault at va with #PF error code code.
//
//go:nosplit
func ResolveFault(pt *pte.PageTables, pages PageSource, va uintptr, code pte.ErrorCode) Fault {
	a := code.Access()
	e, st := pt.Leaf(va)
	f := Fault{VA: va, Access: a, PTE: e}
	switch {
	case code&pte.ErrReserved != 0:
		f.Result = CorruptPte
		return f
	case st == ntstatus.ConflictingAddresses:
		// A large page maps va: only its hardware bits can say anything.
	case st != ntstatus.Success:
		f.Result = NotPresent
		return f
	}
	switch e.Kind() {
	case pte.KindValid:
		if p := e.Protection(); !p.Allows(a) {
			f.Result = denied(p, a)
			return f
		}
		pt.FlushPage(va)
		f.Result = Spurious
	case pte.KindDemandZero, pte.KindTransition:
		f.Result = makeValid(pt, pages, va, e, a)
	default:
		f.Result = NotPresent
	}
	return f
}

// makeValid resolves a fault on a demand-zero or transition leaf e.
//
//go:nosplit
func makeValid(pt *pte.PageTables, pages PageSource, va uintptr, e pte.PTE, a pte.Access) Result {
	p := e.Protection()
	if p.Guard() {
		off := pte.DemandZero(p.WithoutGuard())
		if e.Kind() == pte.KindTransition {
			off = pte.NewTransition(e.Frame(), p.WithoutGuard(), e.Cache())
		}
		pt.Replace(va, off, nil)
		return GuardPage
	}
	if !p.Allows(a) {
		return denied(p, a)
	}
	if e.Kind() == pte.KindTransition {
		pt.Replace(va, pte.NewValid(e.Frame(), p, e.Cache()), nil)
		return Resolved
	}
	f, ok := pages.AllocZeroedPage(pte.PteAddress(va), e)
	if !ok {
		return NoMemory
	}
	pt.Replace(va, pte.NewValid(f, p, pte.Cached), nil)
	return Resolved
}

// denied classifies access a refused by protection p.
//
//go:nosplit
func denied(p pte.Protection, a pte.Access) Result {
	switch {
	case !p.Allows(pte.AccessRead):
		return NotPresent
	case a == pte.AccessWrite:
		return WriteToReadonly
	case a == pte.AccessExecute:
		return ExecuteNoExecute
	}
	return NotPresent
}

var resultNames = [...]string{"resolved", "spurious", "guard page", "not present",
	"write to read-only", "execute of no-execute", "no memory", "corrupt PTE", "in-page"}

//go:nosplit
func (r Result) String() string {
	if int(r) < len(resultNames) {
		return resultNames[r]
	}
	return "unknown result"
}
