// What runs under the PFN lock has no stack check and does not allocate
// (the package comment's "Locking and context"). Two tests keep that true,
// both on the host, both reading which code runs under the lock from the
// sources with ntgo/internal/trapcheck: a lock region runs from a
// function's first lock.Acquire to its last lock.Release (to its end if
// the Release is deferred).
//
// TestLockHeldFunctionsAreNosplit asks every function of the package that
// a region calls, and everything those call in turn, to be //go:nosplit.
//
// TestNothingUnderTheLockHasAStackCheck reads the compiled code of the
// regions and follows every call out of them, into any package: none may
// reach a function with a stack check, which every Go-heap allocation
// also reaches. Calls through a value (Memory's methods, the
// TransitionHook, the kernel's context test inside ke.SpinLock) are not
// followed: their targets are chosen at run time and keep the rule
// themselves (the kernel's Memory is nosplit hyperspace code, called
// without a wrapper: mm's TestTrapInterfacesCallNoWrappers).

package pfn

import (
	"reflect"
	"testing"

	"ntgo/internal/trapcheck"
	"ntgo/nt/ke"
)

const underLock = "under the PFN lock"

func TestLockHeldFunctionsAreNosplit(t *testing.T) {
	src := trapcheck.Parse(t, ".")
	src.CheckNosplit(t, src.Held(src.LockRegions(t, lockField(t))), underLock)
}

func TestNothingUnderTheLockHasAStackCheck(t *testing.T) {
	src := trapcheck.Parse(t, ".")
	regions := src.LockRegions(t, lockField(t))
	prog := trapcheck.Disassemble(t, ".")
	pkg := reflect.TypeFor[Database]().PkgPath()
	src.CheckLockRegionsInCode(t, prog, pkg, regions, trapcheck.FuncName((*ke.SpinLock).Acquire))
	trapcheck.NewSearch(prog, trapcheck.NoStackCheck).CheckRegions(t, pkg, regions, underLock)
}

// lockField is the name of Database's lock field.
func lockField(t *testing.T) string {
	db := reflect.TypeFor[Database]()
	for i := range db.NumField() {
		if f := db.Field(i); f.Type == reflect.TypeFor[ke.SpinLock]() {
			return f.Name
		}
	}
	t.Fatal("Database has no ke.SpinLock")
	return ""
}
