package bugcheck

import "runtime"

// callerPC is the return address into KeBugCheckEx's caller.
func callerPC() uintptr {
	var pcs [1]uintptr
	if runtime.Callers(3, pcs[:]) == 0 {
		return 0
	}
	return pcs[0]
}
