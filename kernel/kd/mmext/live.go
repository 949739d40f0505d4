// Live: the Target over a running memory manager. The kernel fills one
// with the mm package's readers (kernel/mmviews.go); the host tests fill
// one with a simulation's, so the adapter the console runs is tested too.

package mmext

import (
	"errors"
	"io"

	"ntgo/kernel/console"
	"ntgo/kernel/kd"
	"ntgo/kernel/ldr"
	"ntgo/mm/ex"
	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/mm/securepool"
	"ntgo/mm/verifier"
	"ntgo/mm/vmstat"
)

// Live is a running memory manager's data, each piece read when a view
// asks. Every field must be set but Secure and Trim.
type Live struct {
	Frames       *pfn.Database
	Walk         func(va uintptr) pte.Walk
	Report       func() vmstat.Report
	RuntimeRange func(va uintptr) (layout.Reservation, bool)
	// Pools is the executive's pool, false before it exists.
	Pools func() (*pool.System, bool)
	// Lists is every lookaside list, false before the pools exist.
	Lists func() ([]ex.LookasideInfo, bool)
	// Secure is the secure pools' image, false before they exist; nil
	// means a target without secure pools.
	Secure func() (*securepool.Image, bool)
	// Trim takes every unlocked pageable page out now; nil means a target
	// without a pager.
	Trim func() int
}

// errNoPools is the answer of the pool views before ex.Init.
var errNoPools = errors.New("the pools are not initialized yet")

// Live implements Target: no stopped thread, time passes, and each piece
// is read when asked.

func (*Live) Names() console.Names { return kd.Names(nil, kd.RuntimeSymbols{}) }
func (*Live) Live() bool           { return true }

func (l *Live) PFN() (*pfn.Database, error) { return l.Frames, nil }

func (l *Live) Lookup(va uintptr) (pte.Walk, error) { return l.Walk(va), nil }

func (l *Live) VM() (vmstat.Report, error) { return l.Report(), nil }

func (l *Live) Reservation(va uintptr) (layout.Reservation, bool, error) {
	r, ok := l.RuntimeRange(va)
	return r, ok, nil
}

func (l *Live) Pool() (Pool, error) {
	p, ok := l.Pools()
	if !ok {
		return nil, errNoPools
	}
	return p, nil
}

func (l *Live) PoolTags() ([]pool.TagStat, error) {
	p, ok := l.Pools()
	if !ok {
		return nil, errNoPools
	}
	return p.PoolMon(), nil
}

func (*Live) Modules() ([]ldr.Module, error) { return ldr.Modules(), nil }

// SpecialPool is Driver Verifier's live special-pool blocks.
func (*Live) SpecialPool() ([]verifier.Allocation, error) {
	var out []verifier.Allocation
	for _, a := range verifier.Outstanding("") {
		if a.Special {
			out = append(out, a)
		}
	}
	return out, nil
}

// Verifier prints Driver Verifier's state.
func (*Live) Verifier(w io.Writer) error {
	verifier.WriteReport(w)
	return nil
}

func (l *Live) SecurePools() (*securepool.Image, error) {
	if l.Secure == nil {
		return nil, ErrNotHeld
	}
	im, ok := l.Secure()
	if !ok {
		return nil, errNoPools
	}
	return im, nil

}

func (l *Live) Lookasides() ([]ex.LookasideInfo, error) {
	lists, ok := l.Lists()
	if !ok {
		return nil, errNoPools
	}
	return lists, nil
}

// TrimWorkingSet trims through Trim.
func (l *Live) TrimWorkingSet() (int, error) {
	if l.Trim == nil {
		return 0, errNoPager
	}
	return l.Trim(), nil
}

var errNoPager = errors.New("no pager on this target")
