// The memory manager's debugger views (kernel/kd/mmext) over the running
// kernel: the kernel, which drives mm, hands the views mm's readers; mm
// itself knows nothing of the console or the debugger.

package kernel

import (
	"ntgo/kernel/kd/mmext"
	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/pool"
	"ntgo/mm/securepool"
)

// liveMM is the views' Target over this kernel's memory manager.
var liveMM = &mmext.Live{
	Frames:       &mm.PFN,
	Walk:         mm.Lookup,
	Report:       mm.VMReport,
	RuntimeRange: mm.RuntimeReservation,
	Pools: func() (*pool.System, bool) {
		if !ex.Initialized() {
			return nil, false
		}
		return ex.Pools(), true
	},
	Secure: func() (*securepool.Image, bool) {
		if !ex.Initialized() || ex.SecurePools() == nil {
			return nil, false
		}
		return ex.SecurePools().Capture(), true
	},
	Lists: func() ([]ex.LookasideInfo, bool) {
		if !ex.Initialized() {
			return nil, false
		}
		return ex.Lookasides(), true
	},
	Trim: mm.TrimAllPageable,
}

// initMMViews gives the memory manager's views the live kernel.
func initMMViews() { mmext.Register(liveMM) }
