package notmyfault

// secure-write: ordinary driver code writes into a secure-pool block.

import (
	"unsafe"

	"ntgo/mm/ex"
	"ntgo/nt/ntstatus"
)

// secureWrite creates a secure pool, allocates a block from it and stores
// into the block through its ordinary (read-only) mapping, as a stray or
// malicious driver would: the store faults and the system stops with
// ATTEMPTED_WRITE_TO_READONLY_MEMORY, FAULTING_IP naming storeByte.
func secureWrite() {
	var h uintptr
	if st := ex.CreatePool(ex.PoolCreateFlgSecurePool|ex.PoolCreateFlgUseGlobalPool, uintptr(notMyFaultTag), nil, &h); st != ntstatus.Success {
		ntstatus.Raise(st)
	}
	init := [64]byte{'s', 'e', 'c', 'r', 'e', 't'}
	p := ex.AllocatePool3(ex.PoolFlagNonPaged|ex.PoolFlagRaiseOnFailure, uintptr(len(init)), notMyFaultTag,
		[]ex.PoolExtendedParameter{{Type: ex.PoolExtendedParameterSecurePool, SecurePoolParams: &ex.PoolExtendedParamsSecurePool{
			SecurePoolHandle: h, Buffer: unsafe.Pointer(&init), Cookie: 0xC0FFEE, SecurePoolFlags: ex.SecurePoolFlagsFreeable}}})
	storeByte((*byte)(unsafe.Add(p, 8)), 'X')
}
