// Driver Verifier's seam in the pool (the verifier itself is mm/verifier).
//
// Two switches, so that a pool nobody verifies pays one predictable
// branch per call and nothing more:
//
//   - SetVerifier installs the verifier once (the kernel's start-up, or a
//     test). From then on a free of an address outside both pool regions
//     asks it whether the address is its (special pool) before stopping
//     with BAD_POOL_CALLER: that branch is only reached on the path that
//     stops anyway. ExAllocatePool2's POOL_FLAG_SPECIAL_POOL goes to it
//     through AllocateSpecial.
//   - SetVerifying turns the per-call hook on while some driver is
//     verified: Allocate and Free then offer every call to the verifier
//     first (it attributes the caller and declines what it does not
//     verify); off, they test one atomic flag (a plain load on amd64).
//
// What the verifier allocates from normal pool it takes through
// AllocateDirect and FreeDirect, which skip the hook (and the lookaside
// hit); its special-pool blocks are counted under their tags with
// CountSpecial, so poolmon, !poolused and a driver's leak check see them.

package pool

// Verifier is what the pool asks (mm/verifier implements it).
type Verifier interface {
	// Allocate serves the call if its caller is verified: handled false
	// leaves it to the pool. It raises for POOL_RAISE_IF_ALLOCATION_FAILURE
	// itself when it fails the call.
	Allocate(s *System, t PoolType, n uintptr, tag Tag, prio Priority, owner uintptr) (va uintptr, handled bool)
	// Free frees va if it is a block the verifier handed out or tracks.
	Free(s *System, va uintptr, tag Tag) (handled bool)
	// AllocateSpecial is a special-pool block for POOL_FLAG_SPECIAL_POOL,
	// or 0 (no special pool, or its budget spent).
	AllocateSpecial(s *System, t PoolType, n uintptr, tag Tag, prio Priority) uintptr
	// Owns reports whether va lies in the verifier's special pool.
	Owns(va uintptr) bool
	// BlockSize is ExQueryPoolBlockSize of the special-pool block at va.
	BlockSize(va uintptr) uintptr
}

type verifierHook struct{ v Verifier }

// SetVerifier installs v (nil removes it, and turns verifying off).
func (s *System) SetVerifier(v Verifier) {
	if v == nil {
		s.verifying.Store(false)
		s.verifier.Store(nil)
		return
	}
	s.verifier.Store(&verifierHook{v})
}

// SetVerifying turns the per-call hook on or off; on needs a verifier.
func (s *System) SetVerifying(on bool) {
	s.verifying.Store(on && s.verifier.Load() != nil)
}

// AllocateDirect is Allocate without the verifier's hook and the
// lookaside hit: the verifier's own normal-pool allocations.
func (s *System) AllocateDirect(t PoolType, n uintptr, tag Tag, prio Priority, owner uintptr) uintptr {
	return s.allocateFull(t, n, tag, prio, owner)
}

// FreeDirect is Free without the verifier's hook and the lookaside hit.
func (s *System) FreeDirect(va uintptr, tag Tag) { s.freeFull(va, tag) }

// AllocateSpecial is POOL_FLAG_SPECIAL_POOL: a special-pool block if the
// verifier has one to give, else the normal pool's.
func (s *System) AllocateSpecial(t PoolType, n uintptr, tag Tag, prio Priority) uintptr {
	if h := s.verifier.Load(); h != nil {
		if va := h.v.AllocateSpecial(s, t, n, tag, prio); va != 0 {
			return va
		}
	}
	return s.Allocate(t, n, tag, prio, 0)
}

// CountSpecial counts (alloc true) or uncounts a special-pool block of
// bytes under tag in pool type t's tag counters.
func (s *System) CountSpecial(t PoolType, tag Tag, bytes uintptr, alloc bool) {
	if alloc {
		s.tags.alloc(tag, KindOf(t), bytes)
	} else {
		s.tags.free(tag, KindOf(t), bytes)
	}
}

// verifyAllocate and verifyFree offer a call to the verifier (verifying
// is on; the verifier may have been removed since the flag was read).
func (s *System) verifyAllocate(t PoolType, n uintptr, tag Tag, prio Priority, owner uintptr) (uintptr, bool) {
	if h := s.verifier.Load(); h != nil {
		return h.v.Allocate(s, t, n, tag, prio, owner)
	}
	return 0, false
}

func (s *System) verifyFree(va uintptr, tag Tag) bool {
	h := s.verifier.Load()
	return h != nil && h.v.Free(s, va, tag)
}

// specialBlockSize is BlockSize of a special-pool block.
func (s *System) specialBlockSize(va uintptr) (uintptr, bool) {
	if h := s.verifier.Load(); h != nil && h.v.Owns(va) {
		return h.v.BlockSize(va), true
	}
	return 0, false
}

// specialFree frees va if it is the verifier's (a special-pool address
// outside the pool regions).
func (s *System) specialFree(va uintptr, tag Tag) bool {
	h := s.verifier.Load()
	return h != nil && h.v.Owns(va) && h.v.Free(s, va, tag)
}
