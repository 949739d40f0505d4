// The bugchecks the pool raises, with NT's codes, subtypes and parameter
// meanings (from the published BAD_POOL_CALLER, BAD_POOL_HEADER and
// DRIVER_CORRUPTED_EXPOOL descriptions). Bad input never proceeds: the pool
// stops the system with the subtype that names the mistake.
//
// Where NT documents a parameter as reserved, ntgo fills it with something
// useful and says so below.

package pool

import (
	"runtime"

	"ntgo/nt/bugcheck"
)

// BAD_POOL_CALLER (0xC2) subtypes, parameter 1.
const (
	// CallerHeaderCorrupt: a block's header names no descriptor or one whose
	// pages do not hold the block. p2 header, p3 header contents (Ulong1), p4 0.
	CallerHeaderCorrupt = 0x01
	// CallerDoubleFree: freeing a block that is not allocated (already
	// freed, or cached after a free). p2 reserved (0), p3 header contents
	// (Ulong1), p4 address being freed.
	CallerDoubleFree = 0x07
	// CallerAllocIRQL: allocating above DISPATCH_LEVEL, or paged pool above
	// APC_LEVEL. p2 IRQL, p3 pool type, p4 size in bytes.
	CallerAllocIRQL = 0x08
	// CallerFreeIRQL: freeing at such an IRQL. p2 IRQL, p3 pool type,
	// p4 address.
	CallerFreeIRQL = 0x09
	// CallerTagMismatch: ExFreePoolWithTag with a tag that is not the
	// block's. p2 address, p3 allocator's tag, p4 tag used.
	CallerTagMismatch = 0x0A
	// CallerBadQuotaOwner: the quota owner sealed in a block's header names
	// no quota block. p2 address, p3 block's tag, p4 the bad owner value.
	CallerBadQuotaOwner = 0x0D
	// CallerNeverInPool: freeing an address no pool page holds. p2 address,
	// p3 0, p4 0.
	CallerNeverInPool = 0x42
	// CallerNonPagedNotAllocated: freeing a page-aligned nonpaged address that
	// is not a live big allocation. p2 address, p3 reserved (0), p4 0.
	CallerNonPagedNotAllocated = 0x44
	// CallerInvalidAddress: freeing an address inside a pool page that
	// cannot start a block body (not 16-byte aligned, or inside the first
	// header). p2 address, p3 0, p4 0.
	CallerInvalidAddress = 0x46
	// CallerPagedNotAllocated: as CallerNonPagedNotAllocated for paged pool.
	// p2 address, p3 offset in pages from the start of paged pool, p4 size of
	// paged pool in bytes.
	CallerPagedNotAllocated = 0x50
	// CallerInvalidHeader: freeing an address whose header does not open
	// with this boot's cookie: not a pool block, or its header was
	// overwritten. p2 address, p3 0, p4 0.
	CallerInvalidHeader = 0x99
	// CallerMustSucceed: a must-succeed pool type, no longer supported.
	// p2 pool type, p3 size in bytes, p4 tag.
	CallerMustSucceed = 0x9A
)

// BAD_POOL_HEADER (0x19) subtypes, parameter 1.
const (
	// HeaderFreeListCorrupt: a free-list entry's neighbours do not point
	// back at it. p2 entry, p3 Flink->Blink, p4 Blink->Flink (all three
	// equal in a healthy list).
	HeaderFreeListCorrupt = 0x03
	// HeaderNeighboursDisagree: the previous block's BlockSize is not this
	// block's PreviousSize. p2 this block's header, p3 reserved (0), p4 the
	// previous block's header.
	HeaderNeighboursDisagree = 0x05
	// HeaderPreviousSizeTooLarge: PreviousSize reaches before the page (or
	// is nonzero at a page start). p2 the previous header it computes,
	// p3 reserved (0), p4 this block's header.
	HeaderPreviousSizeTooLarge = 0x06
	// HeaderSizeZero: BlockSize is zero. p2 0, p3 reserved (0), p4 header.
	HeaderSizeZero = 0x08
	// HeaderSizeTooLarge: BlockSize runs past the page end. p2 the next
	// header it computes, p3 reserved (0), p4 header.
	HeaderSizeTooLarge = 0x09
	// HeaderFreedPrevModified, HeaderFreedNextModified,
	// HeaderFreedCachedModified: a freed block's header changed after the
	// free: the previous neighbour met while coalescing, the next one, or a
	// block taken off ListHeads, a lookaside list or PendingFrees. NT leaves
	// the parameters reserved; ntgo gives p2 the damaged header, p3 its
	// contents (Ulong1), p4 the block being freed or allocated.
	HeaderFreedPrevModified   = 0x0D
	HeaderFreedNextModified   = 0x0E
	HeaderFreedCachedModified = 0x0F
	// HeaderNextPreviousSize: the next block's PreviousSize is not this
	// block's BlockSize. p2 this block's header, p3 the next header, p4 0.
	HeaderNextPreviousSize = 0x20
)

// DRIVER_CORRUPTED_EXPOOL (0xC5) parameter 3: the access was a read.
const expoolRead = 0

func badPoolCaller(sub, p2, p3, p4 uintptr) {
	bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, sub, p2, p3, p4)
}

func badPoolHeader(sub, p2, p3, p4 uintptr) {
	bugcheck.KeBugCheckEx(bugcheck.BadPoolHeader, sub, p2, p3, p4)
}

// CorruptedExpool stops for a free-list link that leads outside the pool or
// was overwritten: p1 the address the link held, p2 IRQL, p3 read, p4 the
// code address that was about to follow it. mm/ex calls it for the cached
// blocks of drivers' lookaside lists, which are pool blocks too.
func (s *System) CorruptedExpool(link uintptr) {
	const skipToCaller = 2 // runtime.Callers and CorruptedExpool itself
	var pc [1]uintptr
	runtime.Callers(skipToCaller, pc[:])
	bugcheck.KeBugCheckEx(bugcheck.DriverCorruptedExpool, link, uintptr(s.currentIrql()), expoolRead, pc[0])
}
