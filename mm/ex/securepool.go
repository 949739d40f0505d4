// Secure pools: ExCreatePool, ExDestroyPool, ExAllocatePool3's secure-pool
// parameter, ExSecurePoolValidate, ExSecurePoolUpdate and ExFreePool2's
// secure free, over mm/securepool (whose comment says how the page tables
// protect the blocks, and from what).
//
// Statuses and bugchecks, after NT's documentation where it has one:
//   - ExCreatePool: Flags must be POOL_CREATE_FLG_SECURE_POOL, alone or
//     with POOL_CREATE_FLG_USE_GLOBAL_POOL (the only pools ntgo creates),
//     else STATUS_INVALID_PARAMETER_1; Params must be NULL or carry no
//     parameter (a secure pool takes no name), else
//     STATUS_INVALID_PARAMETER_3, or STATUS_INVALID_PARAMETER for a
//     Version other than POOL_CREATE_PARAMS_VERSION; without a secure
//     region (a host test without one) STATUS_NOT_SUPPORTED.
//   - ExAllocatePool3 with PoolExtendedParameterSecurePool: POOL_FLAG_NON_PAGED
//     (secure memory is resident), a Buffer (NULL is
//     STATUS_INVALID_PARAMETER), only SECURE_POOL_FLAGS_FREEABLE and
//     _MODIFIABLE (others STATUS_INVALID_PARAMETER), a live handle (else
//     STATUS_INVALID_HANDLE). A required parameter that fails fails the
//     call (nil, or the raise with POOL_FLAG_RAISE_ON_FAILURE); an
//     optional one that fails leaves an ordinary allocation.
//   - ExSecurePoolValidate: TRUE or FALSE, never a stop (a query).
//   - ExSecurePoolUpdate: STATUS_INVALID_HANDLE, STATUS_ACCESS_DENIED for a
//     block without SECURE_POOL_FLAGS_MODIFIABLE, STATUS_INVALID_PARAMETER
//     for anything else refused (not a block, damaged header, wrong tag or
//     cookie, Offset+Size beyond the block, NULL Buffer).
//   - ExFreePool2 with the secure parameter and ExDestroyPool return
//     nothing: what NT documents as a bugcheck is BAD_POOL_CALLER, with
//     NT's subtypes where one fits and ntgo's (0x131..0x134, below)
//     where none does. ExFreePool on a secure block is BAD_POOL_CALLER
//     0x42: no executive pool page holds it.
//   - IRQL: a secure allocation or free above DISPATCH_LEVEL is
//     BAD_POOL_CALLER 0x08 or 0x09, the pool's rule for non-paged memory.
package ex

import (
	"unsafe"

	"ntgo/mm/pool"
	"ntgo/mm/securepool"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// POOL_CREATE_FLG_* values.
const (
	PoolCreateFlgSecurePool    uint32 = 0x1
	PoolCreateFlgUseGlobalPool uint32 = 0x2
	PoolCreateFlgValidFlags           = PoolCreateFlgSecurePool | PoolCreateFlgUseGlobalPool
)

// POOL_CREATE_PARAMS_VERSION.
const PoolCreateParamsVersion = 1

// PoolCreateExtendedParameterType is POOL_CREATE_EXTENDED_PARAMETER_TYPE.
type PoolCreateExtendedParameterType uint32

const (
	PoolCreateExtendedParameterInvalidType PoolCreateExtendedParameterType = iota
	PoolCreateExtendedParameterName
)

// PoolCreateExtendedParameter is POOL_CREATE_EXTENDED_PARAMETER.
type PoolCreateExtendedParameter struct {
	Type     PoolCreateExtendedParameterType
	PoolName string
}

// PoolCreateExtendedParams is POOL_CREATE_EXTENDED_PARAMS.
type PoolCreateExtendedParams struct {
	Version    uint32
	Parameters []PoolCreateExtendedParameter
}

// SECURE_POOL_FLAGS_* values.
const (
	SecurePoolFlagsNone       uint32 = 0x0
	SecurePoolFlagsFreeable          = securepool.Freeable
	SecurePoolFlagsModifiable        = securepool.Modifiable
)

// BAD_POOL_CALLER subtypes ntgo chose for secure-pool misuse NT documents
// as BAD_POOL_CALLER without a subtype.
const (
	// CallerSecureWrongCookie: p2 address, p3 the cookie given, p4 handle.
	CallerSecureWrongCookie = 0x131
	// CallerSecureNotFreeable: a block allocated without
	// SECURE_POOL_FLAGS_FREEABLE. p2 address, p3 handle, p4 0.
	CallerSecureNotFreeable = 0x132
	// CallerSecureBadHandle: no live secure pool has the handle (destroyed
	// twice, or never created). p2 handle, p3 address or 0, p4 0.
	CallerSecureBadHandle = 0x133
	// CallerSecureBadParameters: ExFreePool2's parameters are not exactly
	// one secure-pool parameter with Buffer NULL and SecurePoolFlags 0.
	// p2 address, p3 parameter count, p4 0.
	CallerSecureBadParameters = 0x134
)

// SecurePools is the system's secure pools, nil if it has no secure region.
func SecurePools() *securepool.System { return sys().secure }

// CreatePool is ExCreatePool.
func CreatePool(flags uint32, tag uintptr, params *PoolCreateExtendedParams, handle *uintptr) ntstatus.Status {
	switch {
	case flags&PoolCreateFlgSecurePool == 0 || flags&^PoolCreateFlgValidFlags != 0:
		return ntstatus.InvalidParameter1
	case params != nil && params.Version != PoolCreateParamsVersion:
		return ntstatus.InvalidParameter
	case params != nil && len(params.Parameters) != 0:
		return ntstatus.InvalidParameter3
	}
	s := sys().secure
	if s == nil {
		return ntstatus.NotSupported
	}
	*handle = uintptr(s.Create(pool.Tag(tag)))
	return ntstatus.Success
}

// DestroyPool is ExDestroyPool: the pool's pages, and any blocks still
// allocated in them, go back.
func DestroyPool(handle uintptr) {
	s := sys().secure
	if s == nil || s.Destroy(securepool.Handle(handle)) != securepool.OK {
		bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, CallerSecureBadHandle, handle, 0, 0)
	}
}

// SecurePoolValidate is ExSecurePoolValidate.
func SecurePoolValidate(handle uintptr, tag pool.Tag, allocation unsafe.Pointer, cookie uintptr) bool {
	s := sys().secure
	return s != nil && s.Validate(securepool.Handle(handle), tag, uintptr(allocation), uint64(cookie)) == securepool.OK
}

// SecurePoolUpdate is ExSecurePoolUpdate: size bytes from buffer replace
// the block's bytes at offset.
func SecurePoolUpdate(handle uintptr, tag pool.Tag, allocation unsafe.Pointer, cookie, offset, size uintptr, buffer unsafe.Pointer) ntstatus.Status {
	s := sys().secure
	if s == nil {
		return ntstatus.InvalidHandle
	}
	if buffer == nil && size != 0 || size > s.MaxBytes() {
		return ntstatus.InvalidParameter
	}
	switch s.Update(securepool.Handle(handle), tag, uintptr(allocation), uint64(cookie), offset, callerBytes(buffer, size)) {
	case securepool.OK:
		return ntstatus.Success
	case securepool.BadHandle:
		return ntstatus.InvalidHandle
	case securepool.NotModifiable:
		return ntstatus.AccessDenied
	}
	return ntstatus.InvalidParameter
}

// callerBytes is the caller's n bytes at p, each page touched first, so
// that a bad Buffer faults here, in the caller's frame, and the copy into
// the secure page (with interrupts off, the alias mapped) takes no fault
// but a first touch the fault handler serves at once.
func callerBytes(p unsafe.Pointer, n uintptr) []byte {
	if n == 0 {
		return nil
	}
	b := unsafe.Slice((*byte)(p), n)
	base, sum := uintptr(p), byte(0)
	for off := uintptr(0); off < n; off = (base+off)&^(pageBytes-1) + pageBytes - base {
		sum += b[off]
	}
	touched = sum
	return b
}

const pageBytes = 4096

// touched is where callerBytes' reads go, so they are not dropped.
var touched byte

// secureRequest is a decoded secure-pool parameter.
type secureRequest struct {
	params   *PoolExtendedParamsSecurePool
	optional bool
}

// checkSecure is the status of a secure-pool parameter before the handle
// is looked up.
func checkSecure(f PoolFlags, sp *PoolExtendedParamsSecurePool) ntstatus.Status {
	switch {
	case sp == nil || sp.Buffer == nil:
		return ntstatus.InvalidParameter
	case sp.SecurePoolFlags&^securepool.ValidFlags != 0:
		return ntstatus.InvalidParameter
	case f&poolKindFlags != PoolFlagNonPaged:
		return ntstatus.InvalidParameter
	}
	return ntstatus.Success
}

// allocateSecure is ExAllocatePool3's secure allocation of n bytes.
func allocateSecure(r secureRequest, n uintptr, tag pool.Tag) (unsafe.Pointer, ntstatus.Status) {
	if irql := ke.CurrentIrql(); irql > ke.DispatchLevel {
		bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, pool.CallerAllocIRQL, uintptr(irql), uintptr(pool.NonPagedPoolNx), n)
	}
	s := sys().secure
	if s == nil {
		return nil, ntstatus.InvalidHandle
	}
	sp := r.params
	if n > s.MaxBytes() {
		return nil, ntstatus.InsufficientResources
	}
	va, f := s.Allocate(securepool.Handle(sp.SecurePoolHandle), n, tag, callerBytes(sp.Buffer, n), uint64(sp.Cookie), sp.SecurePoolFlags)
	switch f {
	case securepool.OK:
		return pool.Ptr(va), ntstatus.Success
	case securepool.BadHandle:
		return nil, ntstatus.InvalidHandle
	}
	return nil, ntstatus.InsufficientResources
}

// freeSecure is ExFreePool2 with secure-pool parameters.
func freeSecure(p unsafe.Pointer, tag pool.Tag, params []PoolExtendedParameter) {
	va := uintptr(p)
	if len(params) != 1 || params[0].SecurePoolParams == nil || params[0].SecurePoolParams.Buffer != nil ||
		params[0].SecurePoolParams.SecurePoolFlags != 0 {
		bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, CallerSecureBadParameters, va, uintptr(len(params)), 0)
	}
	if irql := ke.CurrentIrql(); irql > ke.DispatchLevel {
		bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, pool.CallerFreeIRQL, uintptr(irql), uintptr(pool.NonPagedPoolNx), va)
	}
	sp := params[0].SecurePoolParams
	h := sp.SecurePoolHandle
	s := sys().secure
	f := securepool.BadHandle
	if s != nil {
		f = s.Free(securepool.Handle(h), tag, va, uint64(sp.Cookie))
	}
	switch f {
	case securepool.OK:
		return
	case securepool.BadHandle:
		bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, CallerSecureBadHandle, h, va, 0)
	case securepool.NotInPool:
		bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, pool.CallerNeverInPool, va, 0, 0)
	case securepool.BadHeader:
		bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, pool.CallerInvalidHeader, va, 0, 0)
	case securepool.NotAllocated:
		bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, pool.CallerDoubleFree, 0, 0, va)
	case securepool.WrongTag:
		bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, pool.CallerTagMismatch, va, 0, uintptr(tag))
	case securepool.WrongCookie:
		bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, CallerSecureWrongCookie, va, sp.Cookie, h)
	case securepool.NotFreeable:
		bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, CallerSecureNotFreeable, va, h, 0)
	}
}
