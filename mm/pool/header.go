// Small-block headers.
//
// Every small block (request of at most MaxSmallRequest bytes) is preceded
// by a 16-byte header laid out as NT's x64 POOL_HEADER:
//
//	offset 0  PreviousSize  8 bits  size of the block before, in 16-byte units (0 at a page start)
//	offset 1  PoolIndex     8 bits  descriptor (Kind) the block belongs to
//	offset 2  BlockSize     8 bits  this block's size including the header, in 16-byte units
//	offset 3  PoolType      8 bits  state and attribute bits, below; 0 means free
//	offset 4  PoolTag       32 bits the caller's tag
//	offset 8  check         64 bits quota owner or address-bound cookie, sealed
//
// A page holds 256 units but BlockSize has 8 bits, so the largest block is
// 255 units (4080 bytes) and the largest small request is 4080-16 = 4064
// bytes: PAGE_SIZE-32 is still a small block, PAGE_SIZE-31 is a big
// allocation. A free page is therefore never a single block; a block is
// always at least 2 units so its body can hold a list link.
//
// The PoolType byte is ntgo's own encoding (NT's differs between releases):
// typeAllocated marks a block owned by a caller, typeCached a block freed by
// its caller but parked on a lookaside list or on PendingFrees (still not
// mergeable), and 0 a block on a ListHeads list or an unlisted one-unit
// fragment. Checking typeAllocated on free catches double frees even while
// the block sits in a cache.
//
// The check field is value ^ cookie ^ headerAddress, with value the quota
// owner when typeQuota is set and 0 otherwise. The cookie is random per boot,
// so a header forged or overrun by a caller fails to open on free, and a
// header copied to another address opens to garbage.
//
// Writes to a header are byte-sized stores of single fields, never a
// rewrite of the whole first word: a block's PreviousSize is changed under
// the descriptor lock by a neighbour's split while its owner may be flipping
// the PoolType byte without the lock (see setState).

package pool

import (
	"encoding/binary"
	"sync/atomic"
)

// Header geometry.
const (
	HeaderSize      = 16
	BlockShift      = 4 // log2 of the 16-byte block unit
	BlockUnit       = 1 << BlockShift
	pageUnits       = pageSize >> BlockShift // 256 units in a page
	maxBlockUnits   = byteMask               // BlockSize is 8 bits
	minBlockUnits   = 2                      // header + one list link
	headerUnits     = HeaderSize >> BlockShift
	MaxSmallRequest = maxBlockUnits<<BlockShift - HeaderSize // 4064 = PAGE_SIZE-32
)

// Header field offsets.
const (
	offPreviousSize = 0
	offPoolIndex    = 1
	offBlockSize    = 2
	offPoolType     = 3
	offPoolTag      = 4
	offCheck        = 8
)

// Bits of the header's PoolType byte.
const (
	typeAllocated    = 1 << 0 // owned by a caller
	typeCached       = 1 << 1 // freed into a lookaside list or PendingFrees
	typeCacheAligned = 1 << 2 // allocated for a cache-aligned request
	typeQuota        = 1 << 3 // check field seals a quota owner
	typeStateMask    = typeAllocated | typeCached
	typeFree         = 0
)

// PoolHeader is NT's _POOL_HEADER as ntgo lays it out, for the debugger's
// dt: the fields at the offsets above (a test pins them). The pool itself
// reads and writes headers through those offsets, never through this type.
type PoolHeader struct {
	PreviousSize, PoolIndex, BlockSize, PoolType uint8
	PoolTag                                      Tag
	Check                                        uint64 // the cookie-sealed check (ProcessBilled when quota-charged)
}

// header is a decoded block header.
type header struct {
	prev, index, size, typ uint8
	tag                    Tag
	check                  uint64
}

// readHeader decodes the header at e in pool memory.
func readHeader(e uintptr) header { return decodeHeader((*[HeaderSize]byte)(Ptr(e))) }

// decodeHeader decodes a header from its bytes: in pool memory, or in a
// crash dump's copy of a pool page (Image).
func decodeHeader(b *[HeaderSize]byte) header {
	return header{
		prev:  b[offPreviousSize],
		index: b[offPoolIndex],
		size:  b[offBlockSize],
		typ:   b[offPoolType],
		tag:   Tag(binary.LittleEndian.Uint32(b[offPoolTag:])),
		check: binary.LittleEndian.Uint64(b[offCheck:]),
	}
}

// ulong1 is the header's first 32 bits, NT's Ulong1, which bugchecks report
// as "pool header contents".
func ulong1(e uintptr) uintptr { return uintptr(load32(e)) }

func (h header) state() uint8 { return h.typ & typeStateMask }

func setPrev(e uintptr, units uint8) { store8(e+offPreviousSize, units) }

// setState changes the state bits of the block at e from old to new and
// reports whether the block was in state old. It is a compare-and-swap on the
// header's first word so that two racing frees of one block cannot both
// succeed, and so that it composes with a concurrent byte store to
// PreviousSize by a neighbour's split.
func setState(e uintptr, old, new uint8) bool {
	w := (*uint32)(Ptr(e))
	for {
		v := atomic.LoadUint32(w)
		typ := uint8(v >> (byteBits * offPoolType))
		if typ&typeStateMask != old {
			return false
		}
		typ = typ&^typeStateMask | new
		nv := v&^(byteMask<<(byteBits*offPoolType)) | uint32(typ)<<(byteBits*offPoolType)
		if atomic.CompareAndSwapUint32(w, v, nv) {
			return true
		}
	}
}

// cookie seals the check field.
type cookie uint64

func (c cookie) seal(e, owner uintptr) uint64 { return uint64(c) ^ uint64(e) ^ uint64(owner) }
func (c cookie) open(e uintptr, v uint64) uintptr {
	return uintptr(v ^ uint64(c) ^ uint64(e))
}

// writeHeader writes a whole header for a block the caller owns exclusively
// (a fresh carve under the descriptor lock).
func (c cookie) writeHeader(e uintptr, prev, index, size, typ uint8, tag Tag, owner uintptr) {
	store8(e+offPreviousSize, prev)
	store8(e+offPoolIndex, index)
	store8(e+offBlockSize, size)
	store8(e+offPoolType, typ)
	store32(e+offPoolTag, uint32(tag))
	store64(e+offCheck, c.seal(e, owner))
}

// units is the block size, in units, that holds a request of n bytes.
func units(n uintptr) uintptr {
	if n == 0 {
		n = 1 // NT hands out a smallest block for a zero-byte request
	}
	return (n + HeaderSize + BlockUnit - 1) >> BlockShift
}
