// Low-resource simulation: failures injected into a verified driver's
// calls, reproducibly.
//
// After Grace verified calls (NT waits minutes after boot; a count of
// calls makes a run repeatable), each verified pool allocation, MDL
// mapping and page or contiguous allocation fails with probability
// Probability/10000. The draws come from one PCG generator seeded with
// Seed, reset whenever the settings are applied, so the same settings and
// the same sequence of verified calls fail the same calls. Failure is
// what exhaustion gives: nil (or 0), or the raise the caller asked for.

package verifier

import "math/rand/v2"

// InjectKind is a class of call that can be failed.
type InjectKind int

const (
	InjectPool  InjectKind = iota // ExAllocatePool*
	InjectMdl                     // MmMapLockedPagesSpecifyCache
	InjectPages                   // MmAllocatePagesForMdl*, MmAllocateContiguousMemory*
	injectKinds
)

var injectNames = [injectKinds]string{"pool allocations", "MDL mappings", "page allocations"}

func (k InjectKind) String() string { return injectNames[k] }

// injector is the generator and its call count; guarded by mu.
type injector struct {
	rng   *rand.Rand
	calls uint64
	s     Settings
}

func (j *injector) reset(s Settings) {
	j.s, j.calls = s, 0
	j.rng = rand.New(rand.NewPCG(s.Seed, s.Seed^0x9E3779B97F4A7C15))
}

// fail draws for one verified call.
func (j *injector) fail() bool {
	j.calls++
	return j.calls > j.s.Grace && j.rng.Uint32N(10000) < j.s.Probability
}

// inject reports whether to fail this verified call of kind k.
func inject(k InjectKind) bool {
	mu.Lock()
	failed := state.inject.fail()
	mu.Unlock()
	if failed {
		counters.Injected[k].Add(1)
	}
	return failed
}

// InjectFailure is the memory manager's question before an MDL mapping or
// a page allocation: fail it on purpose? One atomic load when nothing is
// verified.
func InjectFailure(k InjectKind) bool {
	if !on.Load() || settings().Flags&LowResources == 0 {
		return false
	}
	if d, _ := verifiedCaller(); d == "" {
		return false
	}
	return inject(k)
}

// Injected is how many calls of kind k the simulation has failed.
func Injected(k InjectKind) uint64 { return counters.Injected[k].Load() }
