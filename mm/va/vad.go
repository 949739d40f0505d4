// Reservations: the VAD list of a Space.
//
// NT keeps a process's reservations in an AVL tree of VADs (virtual address
// descriptors). A Space keeps them in a slice sorted by address, ranges
// half-open and never overlapping. Lookup is a binary search that allocates
// nothing; insertion and removal shift the slice, which is cheap at the
// numbers of reservations kernel VA sees. Only goroutine-context calls
// (Space's methods) touch it; the fault path does not (see va.go).

package va

import "slices"

// vad is one reservation: [start, end), reserved with protect.
type vad struct {
	start, end uintptr
	// protect is the protection given at reservation, NT's
	// AllocationProtect.
	protect PageProtection
}

// vads is the sorted reservation list.
type vads []vad

// index is the position of the first reservation ending above va.
func (v vads) index(va uintptr) int {
	lo, hi := 0, len(v)
	for lo < hi {
		mid := int(uint(lo+hi) / 2)
		if v[mid].end <= va {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// find is the reservation containing va.
func (v vads) find(va uintptr) (*vad, bool) {
	if i := v.index(va); i < len(v) && v[i].start <= va {
		return &v[i], true
	}
	return nil, false
}

// free reports whether [start, end) overlaps no reservation.
func (v vads) free(start, end uintptr) bool {
	i := v.index(start)
	return i == len(v) || v[i].start >= end
}

// insert adds r, which must not overlap any reservation.
func (v *vads) insert(r vad) { *v = slices.Insert(*v, v.index(r.start), r) }

// remove drops the reservation starting at start.
func (v *vads) remove(start uintptr) {
	i := v.index(start)
	*v = slices.Delete(*v, i, i+1)
}

// firstFit is the lowest address in [lo, hi), aligned to align, where size
// bytes overlap no reservation.
func (v vads) firstFit(lo, hi, size, align uintptr) (uintptr, bool) {
	at := roundUp(lo, align)
	for _, r := range v {
		if at+size <= r.start {
			break
		}
		at = max(at, roundUp(r.end, align))
	}
	return at, at+size <= hi && at+size > at
}
