// MmGetPhysicalAddress: what a driver hands a device for DMA into memory it
// knows stays resident (contiguous memory, non-paged pool, locked pages).

package mm

// GetPhysicalAddress is MmGetPhysicalAddress: the physical address behind
// va, or 0 when va is not mapped (NT returns a zero PHYSICAL_ADDRESS).
func GetPhysicalAddress(va uintptr) uint64 {
	pa, ok := Tables.Translate(va)
	if !ok {
		return 0
	}
	return pa
}
