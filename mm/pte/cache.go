// Cache types and the PAT.
//
// A leaf's memory type is chosen by a three-bit index, PAT:PCD:PWT, into the
// eight one-byte entries of the IA32_PAT MSR. Power-on PAT holds WB, WT, UC-,
// UC (twice), so write-combining is unreachable until the kernel reprograms
// it. ntgo writes PATValue early in boot, giving
//
//	index  PAT PCD PWT  type
//	0      0   0   0    WB   cached
//	1      0   0   1    WC   write-combined   (power-on: WT)
//	2      0   1   0    UC-
//	3      0   1   1    UC   uncached
//	4-7    1   x   x    as 0-3
//
// Entries 4-7 repeat 0-3 so that the PAT bit, which ntgo never sets (and
// which moves to bit 12 in a large-page leaf), cannot change a type. Index 1
// changes meaning from WT to WC, so nothing may map with PWT alone before the
// MSR is written; the boot path writes it before building any mapping. Every
// CPU must hold the same PAT (SDM 11.12.4) — one CPU for now.
//
// CacheType takes NT's MEMORY_CACHING_TYPE values, so a driver's
// MmNonCached/MmCached/MmWriteCombined argument converts directly.

package pte

import "fmt"

// CacheType is NT's MEMORY_CACHING_TYPE, the memory type of a mapping.
type CacheType uint8

// The cache types ntgo maps, with NT's values.
const (
	NonCached     CacheType = 0 // MmNonCached: strong uncacheable (UC), for device registers
	Cached        CacheType = 1 // MmCached: write-back (WB), ordinary memory
	WriteCombined CacheType = 2 // MmWriteCombined: WC, for frame buffers
)

// IA32PAT is the PAT MSR's number.
const IA32PAT = 0x277

// Memory-type encodings of a PAT entry (SDM table 11-10).
const (
	patUC      = 0x00
	patWC      = 0x01
	patUCMinus = 0x07
	patWB      = 0x06
)

// patBitsPerEntry is the width of one PAT entry in the MSR.
const patBitsPerEntry = 8

// PATValue is what the kernel writes to IA32_PAT: WB, WC, UC-, UC, repeated.
const PATValue = (patWB | patWC<<patBitsPerEntry | patUCMinus<<(2*patBitsPerEntry) | patUC<<(3*patBitsPerEntry)) *
	(1 | 1<<(4*patBitsPerEntry))

// cacheMask is the PAT index bits of a 4 KiB leaf that ntgo uses.
const cacheMask = PWT | PCD

// bits is the PAT index selecting c, or false if c is not a type ntgo maps.
//
//go:nosplit
func (c CacheType) bits() (PTE, bool) {
	switch c {
	case Cached:
		return 0, true // index 0: WB
	case WriteCombined:
		return PWT, true // index 1: WC
	case NonCached:
		return PCD | PWT, true // index 3: UC
	}
	return 0, false
}

// Cache is the cache type of a present leaf or a transition entry, which
// keeps PWT and PCD in place. Index 2 (UC-), which ntgo never writes, reads
// as NonCached.
//
//go:nosplit
func (e PTE) Cache() CacheType {
	switch e & cacheMask {
	case 0:
		return Cached
	case PWT:
		return WriteCombined
	}
	return NonCached
}

func (c CacheType) String() string {
	switch c {
	case Cached:
		return "cached"
	case WriteCombined:
		return "write-combined"
	case NonCached:
		return "uncached"
	}
	return fmt.Sprintf("CacheType(%d)", uint8(c))
}
