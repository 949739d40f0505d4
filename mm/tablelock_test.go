// What runs under mm's table lock does not allocate, and has no stack
// check where a goroutine holds it: the system-call layer takes it in trap
// context, and a goroutine holding it has interrupts off (the package
// comment). The same two checks as mm/pfn's lockheld_test, through
// ntgo/internal/trapcheck: every function of mm a table-lock region calls
// is //go:nosplit, and no call out of a region, followed through the
// compiled code into any package, reaches what its rule forbids. The
// regions of the Go runtime's entry points (runtime_trap.go), which run
// only on the trap g and are exempt from nosplit for it, are held to
// trap context's rule (no allocation); the others to a lock holder's (no
// stack check). The compiled code is the kernel's, where the system-call
// layer calls the entry points, and the test binary's for what the kernel
// does not link (MDL probing, unless a driver uses it). The secure pools'
// alias lock (securealias_trap.go), which only goroutines take, is held to
// a lock holder's rule too.

package mm

import (
	"maps"
	"reflect"
	"testing"

	"ntgo/internal/trapcheck"
	"ntgo/nt/ke"
)

const underTableLock = "under the table lock"

func TestTableLockHeldFunctionsAreNosplit(t *testing.T) {
	src := trapcheck.Parse(t, ".")
	src.CheckNosplit(t, src.Held(src.LockRegions(t, "tableLock")), underTableLock)
	src.CheckNosplit(t, src.Held(src.LockRegions(t, "aliasLock")), underAliasLock)
}

const underAliasLock = "under the secure pools' alias lock"

func TestTableLockRegionsKeepTheirRule(t *testing.T) {
	src := trapcheck.Parse(t, ".")
	regions := src.LockRegions(t, "tableLock")
	alias := src.LockRegions(t, "aliasLock")
	pkg := reflect.TypeFor[PoolPages]().PkgPath()
	prog := trapcheck.Disassemble(t, ".")
	maps.Copy(prog, trapcheck.DisassembleKernel(t, pkg))
	src.CheckLockRegionsInCode(t, prog, pkg, append(append([]trapcheck.Region(nil), regions...), alias...), trapcheck.FuncName((*ke.SpinLock).Acquire))
	var trapOnly, held []trapcheck.Region
	for _, r := range regions {
		if _, exempt := trapcheck.Exempt(src.Funcs[r.Fn]); exempt {
			trapOnly = append(trapOnly, r)
		} else {
			held = append(held, r)
		}
	}
	if len(trapOnly) == 0 || len(held) == 0 {
		t.Fatalf("trap-only regions %v, goroutine regions %v: expected both kinds", trapOnly, held)
	}
	trapcheck.NewSearch(prog, trapcheck.NoStackCheck).CheckRegions(t, pkg, held, underTableLock)
	trapcheck.NewSearch(prog, trapcheck.NoStackCheck).CheckRegions(t, pkg, alias, underAliasLock)
	trapcheck.NewSearch(prog, trapcheck.NoAllocation).CheckRegions(t, pkg, trapOnly, underTableLock+" in trap context")
}
