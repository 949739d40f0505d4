// Arrays: new T[n] and delete[].
//
// DeleteArray must destroy every element, so the count travels with the
// array, as a C++ compiler's array cookie does: NewArray allocates an
// arrayHeader in front of the elements and returns the elements as a
// slice.
//
//	block:  | pool header | arrayHeader (16 bytes) | T[0] | T[1] | ... |
//	                                                 ^ SliceData(s)
//
// The header keeps the 16-byte alignment of the block for the elements. It
// holds the count and a check word (count ^ elements' address ^ a per-boot
// cookie), so DeleteArray given anything but what NewArray returned stops
// instead of destroying a wrong number of objects: first the pool validates
// that the header address is a live block (BAD_POOL_CALLER otherwise), then
// the check word and the block's size must agree with the count
// (BAD_POOL_CALLER 0x46, invalid address, otherwise).

package object

import (
	"math/bits"
	"math/rand/v2"
	"unsafe"

	"ntgo/mm/ex"
	"ntgo/mm/pool"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

type arrayHeader struct {
	count uint64
	check uint64
}

const arrayHeaderSize = unsafe.Sizeof(arrayHeader{})

// arrayCookie is chosen once per boot, so a check word cannot be forged by
// a constant that happens to sit in front of some other memory.
var arrayCookie = rand.Uint64()

func (h *arrayHeader) seal(elements uintptr) uint64 {
	return h.count ^ uint64(elements) ^ arrayCookie
}

// NewArray is `new (t, tag) T[n]`: n zeroed, constructed Ts, or nil if the
// pool cannot supply them or n*sizeof(T) overflows. If t has
// POOL_RAISE_IF_ALLOCATION_FAILURE it raises STATUS_INSUFFICIENT_RESOURCES
// instead of returning nil. A negative n raises STATUS_INVALID_PARAMETER.
func NewArray[T any](t pool.PoolType, tag pool.Tag, n int) []T {
	info := infoOf[T]()
	if n < 0 {
		ntstatus.Raise(ntstatus.InvalidParameter)
	}
	hi, body := bits.Mul64(uint64(n), uint64(sizeOf[T]()))
	total, carry := bits.Add64(body, uint64(arrayHeaderSize), 0)
	if hi != 0 || carry != 0 {
		if t&pool.PoolRaiseIfAllocationFailure != 0 {
			ntstatus.Raise(ntstatus.InsufficientResources)
		}
		return nil
	}
	mem := ex.AllocatePoolZero(t, uintptr(total), tag)
	if mem == nil {
		return nil
	}
	h := (*arrayHeader)(mem)
	first := unsafe.Add(mem, arrayHeaderSize)
	h.count = uint64(n)
	h.check = h.seal(uintptr(first))
	s := unsafe.Slice((*T)(first), n)
	if info.init {
		for i := range s {
			any(&s[i]).(Initializer).Init()
		}
	}
	return s
}

// DeleteArray is `delete[] s`: Destroy on each of the elements NewArray made
// (whatever s's length now is), then ExFreePool. A nil s does nothing.
func DeleteArray[T any](s []T) {
	if s == nil {
		return
	}
	info := infoOf[T]()
	first := unsafe.Pointer(unsafe.SliceData(s))
	// The header's address is validated as a uintptr before it becomes a
	// pointer: for a slice the pool never made it lies outside any block.
	header := uintptr(first) - arrayHeaderSize
	size, _ := ex.Pools().BlockSize(header) // ExQueryPoolBlockSize: stops if header is no pool block
	mem := pool.Ptr(header)
	h := (*arrayHeader)(mem)
	fits := sizeOf[T]() == 0 || h.count <= uint64((size-arrayHeaderSize)/sizeOf[T]())
	if h.check != h.seal(uintptr(first)) || !fits {
		bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, pool.CallerInvalidAddress, uintptr(first), 0, 0)
	}
	if info.destroy {
		elements := unsafe.Slice((*T)(first), h.count)
		for i := range elements {
			any(&elements[i]).(Destroyer).Destroy()
		}
	}
	ex.FreePool(mem)
}
