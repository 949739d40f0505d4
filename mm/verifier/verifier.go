// Package verifier is Driver Verifier's memory checks: special pool, pool
// tracking, low-resource simulation and IRQL checking, for the drivers
// chosen by name (verifier.exe's /driver, or /all), as NT's Verifier does
// inside its memory manager.
//
// Structure.
//
//   - Settings (flags, drivers, fault injection, special-pool alignment)
//     are applied whole by Apply; the kernel's `verifier` command and
//     boot key (kernel/vf) parse them. Verification costs nothing while no
//     driver is verified: the pool's hook flag (mm/pool's verifier.go) and
//     ke's IRQL hook are off, and InjectFailure reads one atomic flag.
//   - Attribution (attrib.go): a call is the verified driver's if the
//     first frame above the memory manager lies in its code.
//   - Special pool (special.go, special_trap.go): one allocation per page
//     run with an unmapped guard page, in its own region with a budget.
//   - Tracking (track.go): every allocation of a verified driver is
//     recorded (tag, size, caller) until freed; unloading a driver with
//     records left stops with 0xC4 0x62.
//   - Low-resource simulation (inject.go): a seeded generator fails a
//     fraction of a verified driver's calls after a grace period.
//   - IRQL checking (irql.go): pool calls at the wrong IRQL and bad
//     KeRaiseIrql/KeLowerIrql stop with 0xC4's subcodes; a raise to
//     DISPATCH_LEVEL first trims pageable memory (TrimAllPageable).
//
// Locking: mu guards the settings and the special pool's bookkeeping,
// trackMu the tracking records (track.go); the settings in force are an immutable copy
// behind an atomic pointer, the counters atomics. Everything runs in
// goroutine context except the fault classification (special_trap.go),
// which reads the page-state table and the code spans without a lock.
package verifier

import (
	"sync"
	"sync/atomic"

	"ntgo/mm/pool"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// Flags are verifier.exe's /flags bits ntgo implements.
type Flags uint32

const (
	SpecialPool       Flags = 0x01 // special pool
	ForceIrqlChecking Flags = 0x02 // force IRQL checking
	LowResources      Flags = 0x04 // low-resource simulation
	PoolTracking      Flags = 0x08 // pool tracking
	knownFlags              = SpecialPool | ForceIrqlChecking | LowResources | PoolTracking
)

// Settings are what is verified and how.
type Settings struct {
	Flags Flags
	// All verifies every driver; else Drivers names the modules.
	All     bool
	Drivers []string
	// Underrun places special-pool blocks against a guard page before
	// them (verify start) instead of after them (verify end).
	Underrun bool
	// Low-resource simulation: after Grace verified calls, fail each with
	// probability Probability/10000, drawn from a generator seeded with Seed.
	Seed        uint64
	Probability uint32
	Grace       uint64
}

// verifies reports whether module m is verified.
func (s Settings) verifies(m string) bool {
	if s.Flags == 0 {
		return false
	}
	if s.All {
		return true
	}
	for _, d := range s.Drivers {
		if d == m {
			return true
		}
	}
	return false
}

// DefaultProbability and DefaultGrace are verifier.exe's /faults default
// probability (6%) and ntgo's grace period in verified calls.
const (
	DefaultProbability = 600
	DefaultGrace       = 100
)

// hooks is the verifier as mm/pool and nt/ke see it.
type hooks struct{}

var (
	mu    sync.Mutex
	state struct {
		settings Settings
		pools    *pool.System
		special  *specialPool
		inject   injector
	}
	// on is whether any driver is verified (InjectFailure's flag); live
	// is the settings in force, immutable, for the calls to read unlocked.
	on   atomic.Bool
	live atomic.Pointer[Settings]
	// counters, by what happened.
	counters Counters
)

// Counters are what the verifier did since boot.
type Counters struct {
	Allocations, Frees          atomic.Uint64 // verified pool calls
	SpecialAllocations          atomic.Uint64
	SpecialFallbacks            atomic.Uint64 // special pool asked for, normal pool given (budget)
	Injected                    [injectKinds]atomic.Uint64
	RaisesTrimmed, PagesTrimmed atomic.Uint64
	NothingToTrim               atomic.Uint64 // raises that found TrimAllPageable unset
}

// Init attaches the verifier to the system's pools, with a special pool
// over pages of at most budget pages. It keeps the current settings.
func Init(s *pool.System, pages Pages, budget int) {
	mu.Lock()
	defer mu.Unlock()
	state.pools = s
	state.special = newSpecialPool(pages, budget)
	s.SetVerifier(hooks{})
	applyLocked(state.settings)
}

// Apply replaces the settings. Unknown flags are STATUS_INVALID_PARAMETER.
func Apply(s Settings) ntstatus.Status {
	if s.Flags&^knownFlags != 0 {
		return ntstatus.InvalidParameter
	}
	mu.Lock()
	defer mu.Unlock()
	applyLocked(s)
	return ntstatus.Success
}

func applyLocked(s Settings) {
	s.Drivers = append([]string(nil), s.Drivers...)
	state.settings = s
	live.Store(&s)
	state.inject.reset(s)
	if t := code.Load(); t != nil {
		code.Store(classify(t.spans, s))
	}
	active := s.Flags != 0 && (s.All || len(s.Drivers) > 0)
	on.Store(active)
	if state.pools != nil {
		state.pools.SetVerifying(active)
	}
	if active {
		ke.SetIrqlVerifier(irqlHooks{})
	} else {
		ke.SetIrqlVerifier(nil)
	}
}

// Current is the settings in force.
func Current() Settings {
	s := settings()
	s.Drivers = append([]string(nil), s.Drivers...)
	return *s
}

// settings is the settings in force, not to be modified.
func settings() *Settings {
	if s := live.Load(); s != nil {
		return s
	}
	return &Settings{}
}

// verifiedCaller is the verified module making this call ("" if none) and
// the return address into its code.
func verifiedCaller() (string, uintptr) {
	d, pc := caller()
	if d < 0 {
		return "", pc
	}
	return code.Load().drivers[d], pc
}

// Allocate implements pool.Verifier: a verified driver's allocation is
// checked, maybe failed on purpose, placed in special pool if asked for,
// and tracked.
func (hooks) Allocate(s *pool.System, t pool.PoolType, n uintptr, tag pool.Tag, prio pool.Priority, owner uintptr) (uintptr, bool) {
	driver, pc := verifiedCaller()
	if driver == "" {
		return 0, false
	}
	counters.Allocations.Add(1)
	st := settings()
	if st.Flags&(ForceIrqlChecking|SpecialPool|PoolTracking) != 0 {
		checkAllocation(t, n)
	}
	if st.Flags&LowResources != 0 && inject(InjectPool) {
		if t&pool.PoolRaiseIfAllocationFailure != 0 {
			ntstatus.Raise(ntstatus.InsufficientResources)
		}
		return 0, true
	}
	var va uintptr
	special := false
	if st.Flags&SpecialPool != 0 && owner == 0 {
		va = allocateSpecial(s, t, n, tag, prio, st.Underrun, driver, pc)
		special = va != 0
		if !special {
			counters.SpecialFallbacks.Add(1)
		}
	}
	if !special {
		va = s.AllocateDirect(t, n, tag, prio, owner)
		if va == 0 {
			return 0, true
		}
		track(va, record{driver: driver, caller: pc, tag: tag, size: n, typ: t})
	}
	return va, true
}

// Free implements pool.Verifier: special-pool blocks and tracked blocks
// are the verifier's to free; a verified caller's free of one is
// IRQL-checked (everything a verified driver allocates is one of the two,
// so other frees need no attribution).
func (hooks) Free(s *pool.System, va uintptr, tag pool.Tag) bool {
	if state.special.owns(va) {
		t := state.special.typeOf(va)
		if driver, _ := verifiedCaller(); driver != "" {
			counters.Frees.Add(1)
			checkFree(va, t)
		}
		checkSpecialIrql(freeIrql, t, va)
		freeSpecial(s, va, tag)
		return true
	}
	r, ok := untrack(va)
	if !ok {
		return false
	}
	if driver, _ := verifiedCaller(); driver != "" {
		counters.Frees.Add(1)
		checkFree(va, r.typ)
	}
	s.FreeDirect(va, tag)
	return true
}

// AllocateSpecial implements pool.Verifier: POOL_FLAG_SPECIAL_POOL.
func (hooks) AllocateSpecial(s *pool.System, t pool.PoolType, n uintptr, tag pool.Tag, prio pool.Priority) uintptr {
	checkSpecialIrql(allocIrql, t, n)
	driver, pc := verifiedCaller()
	va := allocateSpecial(s, t, n, tag, prio, settings().Underrun, driver, pc)
	if va == 0 {
		counters.SpecialFallbacks.Add(1)
	}
	return va
}

// Owns implements pool.Verifier.
func (hooks) Owns(va uintptr) bool { return state.special.owns(va) }

// BlockSize implements pool.Verifier.
func (hooks) BlockSize(va uintptr) uintptr {
	mu.Lock()
	defer mu.Unlock()
	return state.special.blockSize(va)
}

// violation stops with DRIVER_VERIFIER_DETECTED_VIOLATION.
func violation(sub, p2, p3, p4 uintptr) {
	bugcheck.KeBugCheckEx(bugcheck.DriverVerifierDetectedViolation, sub, p2, p3, p4)
}
