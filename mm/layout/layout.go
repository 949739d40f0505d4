// Package layout is NT's 64-bit kernel address space: the fixed regions of
// the upper half, as named constants, with Find for `!address <va>` and a
// printable table.
//
// The regions and their bounds are those of NT 6.x on x64 (the 44-bit-era
// layout the Windows Internals tables describe), with the system PTE
// region, PTE space and the shared user data page where drivers and the
// self-map expect them:
//
//	start              last               size       region
//	FFFF8000`00000000  FFFFF67F`FFFFFFFF  ~118 TiB   unused system space
//	FFFFF680`00000000  FFFFF6FF`FFFFFFFF  512 GiB    PTE space (the self-map)
//	FFFFF700`00000000  FFFFF77F`FFFFFFFF  512 GiB    hyperspace
//	FFFFF780`00000000  FFFFF780`00000FFF  4 KiB      shared user data
//	FFFFF780`00001000  FFFFF7FF`FFFFFFFF  ~511 GiB   system cache working set
//	FFFFF800`00000000  FFFFF87F`FFFFFFFF  512 GiB    initial loader mappings
//	FFFFF880`00000000  FFFFF89F`FFFFFFFF  128 GiB    system PTEs
//	FFFFF8A0`00000000  FFFFF8BF`FFFFFFFF  128 GiB    paged pool
//	FFFFF8C0`00000000  FFFFF8C0`0FFFFFFF  256 MiB    special pool (Driver Verifier)
//	FFFFF900`00000000  FFFFF97F`FFFFFFFF  512 GiB    session space
//	FFFFF980`00000000  FFFFFA7F`FFFFFFFF  1 TiB      dynamic kernel VA
//	FFFFFA80`00000000  FFFFFE7F`FFFFFFFF  4 TiB      PFN database
//	FFFFFE80`00000000  FFFFFEFF`FFFFFFFF  512 GiB    non-paged pool
//	FFFFFF00`00000000  FFFFFF7F`FFFFFFFF  512 GiB    secure pool (ntgo's)
//	FFFFFFFF`FFC00000  FFFFFFFF`FFFFFFFF  4 MiB      HAL and loader mappings
//
// Choices where NT is not fixed:
//
//   - Dynamic kernel VA is taken as the full 1 TiB up to the PFN database.
//     (Some tables end it at FFFFFA70`FFFFFFFF, leaving an unnamed gap.)
//
//   - NT sizes the PFN database at boot from the highest physical page and
//     starts non-paged pool right after it (MmNonPagedPoolStart). ntgo fixes
//     both bounds so that Find needs no boot data: 4 TiB of PFN database
//     (far more than any guest's physical memory needs) and then the 512 GiB
//     non-paged pool maximum.
//
//   - Secure pools live in VTL 1 on Windows, outside the normal kernel's
//     address space. ntgo protects them with the page tables instead
//     (mm/securepool), in a region of their own: the PML4 slot after
//     non-paged pool, which NT's layout leaves unused.
//
//   - Special pool (Driver Verifier's guarded pages, mm/verifier) has no
//     fixed place in NT; ntgo puts it right after paged pool, in the gap
//     before session space, sized so that its page-state table is small.
//
// Addresses between regions (FFFFF8C0`10000000 up to session space, and from
// FFFFFF80`00000000 up to the HAL area) and the whole lower half belong to
// no region. Regions are listed in address order and do not overlap, which
// the tests check.
package layout

import (
	"fmt"
	"strings"

	"ntgo/mm/pte"
)

// ID names a region.
type ID uint8

// The regions, in address order.
const (
	UnusedSystemSpace ID = iota
	PteSpace
	HyperSpace
	SharedUserData
	SystemCacheWorkingSet
	InitialLoaderMappings
	SystemPtes
	PagedPool
	SpecialPool
	SessionSpace
	DynamicVA
	PfnDatabase
	NonPagedPool
	SecurePool
	Hal
	regionCount
)

// Bounds of each region: the first address and the last (inclusive, since
// the HAL area ends at the top of the address space).
const (
	UnusedSystemSpaceStart uintptr = 0xFFFF8000_00000000
	PteSpaceStart                  = pte.PteBase
	HyperSpaceStart                = pte.PteSpaceEnd
	SharedUserDataStart    uintptr = 0xFFFFF780_00000000
	SharedUserDataSize     uintptr = 0x1000
	SystemCacheWSStart             = SharedUserDataStart + SharedUserDataSize
	LoaderMappingsStart    uintptr = 0xFFFFF800_00000000
	SystemPtesStart        uintptr = 0xFFFFF880_00000000
	PagedPoolStart         uintptr = 0xFFFFF8A0_00000000
	pagedPoolSize          uintptr = 128 << 30
	SpecialPoolStart       uintptr = 0xFFFFF8C0_00000000
	SpecialPoolSize        uintptr = 256 << 20
	SessionSpaceStart      uintptr = 0xFFFFF900_00000000
	DynamicVAStart         uintptr = 0xFFFFF980_00000000
	PfnDatabaseStart       uintptr = 0xFFFFFA80_00000000
	NonPagedPoolStart      uintptr = 0xFFFFFE80_00000000
	nonPagedPoolSize       uintptr = 512 << 30
	SecurePoolStart        uintptr = 0xFFFFFF00_00000000
	SecurePoolSize         uintptr = 512 << 30
	HalStart               uintptr = 0xFFFFFFFF_FFC00000
)

// LowerHalfEnd is the end of the lower half of the address space (NT's
// user half), where ntgo's Go runtime keeps its heap and stacks.
const LowerHalfEnd uintptr = 0x0000_8000_0000_0000

// Reservation is one range [Start, End) the Go runtime reserved in the
// lower half; fixed-size, so that a crash dump stores it as is.
type Reservation struct{ Start, End uint64 }

// Contains reports whether va lies in r.
func (r Reservation) Contains(va uintptr) bool { return uint64(va) >= r.Start && uint64(va) < r.End }

// FindReservation is the reservation of rs holding va (a crash dump's
// copy of the runtime's table).
func FindReservation(rs []Reservation, va uintptr) (Reservation, bool) {
	for _, r := range rs {
		if r.Contains(va) {
			return r, true
		}
	}
	return Reservation{}, false
}

// Region is one named range of kernel address space.
type Region struct {
	ID    ID
	Name  string
	Start uintptr
	Last  uintptr // inclusive
}

// Size is the region's length in bytes.
func (r Region) Size() uintptr { return r.Last - r.Start + 1 }

// Contains reports whether va lies in r.
func (r Region) Contains(va uintptr) bool { return va >= r.Start && va <= r.Last }

// Regions is the kernel layout, indexed by ID.
var Regions = [regionCount]Region{
	{UnusedSystemSpace, "Unused System Space", UnusedSystemSpaceStart, PteSpaceStart - 1},
	{PteSpace, "PTE Space", PteSpaceStart, HyperSpaceStart - 1},
	{HyperSpace, "HyperSpace", HyperSpaceStart, SharedUserDataStart - 1},
	{SharedUserData, "Shared User Data", SharedUserDataStart, SystemCacheWSStart - 1},
	{SystemCacheWorkingSet, "System Cache Working Set", SystemCacheWSStart, LoaderMappingsStart - 1},
	{InitialLoaderMappings, "Initial Loader Mappings", LoaderMappingsStart, SystemPtesStart - 1},
	{SystemPtes, "System PTEs", SystemPtesStart, PagedPoolStart - 1},
	{PagedPool, "Paged Pool", PagedPoolStart, PagedPoolStart + pagedPoolSize - 1},
	{SpecialPool, "Special Pool", SpecialPoolStart, SpecialPoolStart + SpecialPoolSize - 1},
	{SessionSpace, "Session Space", SessionSpaceStart, DynamicVAStart - 1},
	{DynamicVA, "Dynamic Kernel VA", DynamicVAStart, PfnDatabaseStart - 1},
	{PfnDatabase, "PFN Database", PfnDatabaseStart, NonPagedPoolStart - 1},
	{NonPagedPool, "Non-Paged Pool", NonPagedPoolStart, NonPagedPoolStart + nonPagedPoolSize - 1},
	{SecurePool, "Secure Pool", SecurePoolStart, SecurePoolStart + SecurePoolSize - 1},
	{Hal, "HAL and Loader Mappings", HalStart, ^uintptr(0)},
}

// Find is the region holding va, for `!address`.
func Find(va uintptr) (Region, bool) {
	// Fourteen sorted regions: a linear scan beats a search, and allocates nothing.
	for _, r := range Regions {
		if r.Contains(va) {
			return r, true
		}
	}
	return Region{}, false
}

// String prints the region as a row of the layout table.
func (r Region) String() string {
	return fmt.Sprintf("%s  %s  %10s  %s", ntAddress(r.Start), ntAddress(r.Last), humanSize(r.Size()), r.Name)
}

// Table is the whole layout as a table, one region per line.
func Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-17s  %-17s  %10s  %s\n", "Start", "Last", "Size", "Region")
	for _, r := range Regions {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// ntAddress formats va as the NT debugger does: FFFFF680`00000000.
func ntAddress(va uintptr) string {
	return fmt.Sprintf("%08X`%08X", uint64(va)>>32, uint32(va))
}

// humanSize prints n in the largest binary unit that divides it, else in
// the largest that it exceeds, approximately.
func humanSize(n uintptr) string {
	units := [...]string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := len(units) - 1
	for i > 0 && n < 1<<(10*i) {
		i--
	}
	if n%(1<<(10*i)) == 0 {
		return fmt.Sprintf("%d %s", n>>(10*i), units[i])
	}
	return fmt.Sprintf("~%d %s", n>>(10*i), units[i])
}
