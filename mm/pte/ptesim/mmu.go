// Package ptesim simulates the x86-64 MMU over simulated physical memory, so
// that the page-table code runs and is checked on the host.
//
// # The MMU
//
// MMU.Translate does what the CPU does for a ring-0 data access or
// instruction fetch with CR0.WP=1, EFER.NXE=1 and no SMEP/SMAP/PKE: from
// the PML4 in frame CR3 it reads four levels of entries (fewer for a large
// page) from physmem.Sim, faults if one is not present or has a reserved bit
// set, takes the AND of the Write bits and the OR of the NX bits along the
// path, faults if they deny the access, sets Accessed in every entry used
// and Dirty in the leaf of a write, and returns the physical address or the
// #PF error code. Nothing about the self-map is special-cased: an address in
// PTE space walks through the recursive entry as on hardware.
//
// The MMU has a TLB, because missing flushes are the bugs worth catching. It
// caches successful 4 KiB translations (large-page ones are not cached, which
// a CPU is also free to do) with their combined rights and dirty state. A hit
// that permits the access is used without reading memory, so a changed PTE
// that was not flushed goes on translating the old way, as on hardware. A
// hit that denies the access faults at once, as hardware may (SDM 4.10.4.3),
// and like any #PF drops the entry. A write through a clean entry walks
// again to set Dirty. FlushPage (INVLPG) and FlushAll (a CR3 reload, sparing
// Global entries) are the MMU's pte.Flusher side.
//
// Not modelled: user mode, #GP on non-canonical addresses (Translate panics
// instead), PCIDs, memory types.
//
// # The rest
//
// Tables reaches entries through the MMU at their self-map addresses (the
// host's pte.Tables); Frames is a frame source over the simulated memory;
// Machine assembles memory, frames, MMU and a pte.PageTables, and checks the
// tables' structural invariants by walking them physically.
//
// Nothing here is safe for concurrent use; tests are single-goroutine.
package ptesim

import (
	"fmt"

	"ntgo/mm/physmem"
	"ntgo/mm/pte"
)

// MaxPhysAddrBits is the simulated CPU's MAXPHYADDR: a present entry with a
// frame bit at or above it has a reserved bit set.
const MaxPhysAddrBits = 46

// reservedFrameBits are the frame-field bits above MAXPHYADDR.
const reservedFrameBits = pte.FrameMask &^ (1<<MaxPhysAddrBits - 1)

// MMU is the simulated address-translation hardware of one CPU.
type MMU struct {
	Mem *physmem.Sim
	// CR3 is the frame of the PML4.
	CR3 physmem.PFN
	tlb map[uintptr]tlbEntry // by virtual page number
}

// tlbEntry is a cached 4 KiB translation.
type tlbEntry struct {
	frame  physmem.PFN
	write  bool // every level allowed writes
	exec   bool // no level had NX
	dirty  bool // the leaf's Dirty bit is known set
	global bool
}

// NewMMU returns an MMU translating through the PML4 in frame cr3.
func NewMMU(mem *physmem.Sim, cr3 physmem.PFN) *MMU {
	return &MMU{Mem: mem, CR3: cr3, tlb: make(map[uintptr]tlbEntry)}
}

// Translate performs access a at va, returning the physical address, or the
// #PF error code and false.
func (m *MMU) Translate(va uintptr, a pte.Access) (uint64, pte.ErrorCode, bool) {
	if !pte.IsCanonical(va) {
		panic(fmt.Sprintf("ptesim: %#x is not canonical: #GP, which is not simulated", va))
	}
	vpn := va >> physmem.PageShift
	if t, ok := m.tlb[vpn]; ok {
		switch {
		case !allows(a, t.write, t.exec):
			delete(m.tlb, vpn)
			return 0, pte.ErrorCodeFor(a, true), false
		case a != pte.AccessWrite || t.dirty:
			return t.frame.Addr() | uint64(va&physmem.PageMask), 0, true
		}
	}
	pa, code, ok := m.walk(va, a)
	if !ok {
		delete(m.tlb, vpn)
	}
	return pa, code, ok
}

// allows reports whether combined rights permit access a.
func allows(a pte.Access, write, exec bool) bool {
	switch a {
	case pte.AccessWrite:
		return write
	case pte.AccessExecute:
		return exec
	}
	return true
}

// walk translates va from memory, as on a TLB miss.
func (m *MMU) walk(va uintptr, a pte.Access) (uint64, pte.ErrorCode, bool) {
	var used [pte.PML4 + 1]uint64 // physical addresses of the entries used, by level
	table := m.CR3
	write, exec := true, true
	for l := pte.PML4; ; l-- {
		ea := table.Addr() + uint64(l.Index(va))*8
		e := pte.PTE(m.Mem.Load64(ea))
		if !e.Valid() {
			return 0, pte.ErrorCodeFor(a, false), false
		}
		if reserved(l, e) {
			return 0, pte.ErrorCodeFor(a, true) | pte.ErrReserved, false
		}
		used[l] = ea
		write = write && e&pte.Write != 0
		exec = exec && e&pte.NX == 0
		if l != pte.PT && (l == pte.PML4 || !e.Large()) {
			table = e.Frame()
			continue
		}
		// e is the leaf, mapping 1<<l.Shift() bytes.
		if !allows(a, write, exec) {
			return 0, pte.ErrorCodeFor(a, true), false
		}
		for ul := pte.PML4; ul > l; ul-- {
			m.setBits(used[ul], pte.Accessed)
		}
		leafBits := pte.Accessed
		if a == pte.AccessWrite {
			leafBits |= pte.Dirty
		}
		m.setBits(ea, leafBits)
		offset := uint64(1)<<l.Shift() - 1
		pa := uint64(e&pte.FrameMask)&^offset | uint64(va)&offset
		if l == pte.PT {
			m.tlb[va>>physmem.PageShift] = tlbEntry{
				frame: e.Frame(), write: write, exec: exec,
				dirty: a == pte.AccessWrite || e&pte.Dirty != 0, global: e&pte.Global != 0,
			}
		}
		return pa, 0, true
	}
}

// reserved reports whether present entry e at level l has a reserved bit
// set: a frame bit beyond MAXPHYADDR, PS in a PML4 entry, or a large page's
// frame not aligned to its size.
func reserved(l pte.Level, e pte.PTE) bool {
	if e&reservedFrameBits != 0 {
		return true
	}
	switch {
	case l == pte.PML4:
		return e&pte.PS != 0
	case l != pte.PT && e.Large():
		misaligned := pte.PTE(1)<<l.Shift() - 1
		return e&pte.FrameMask&misaligned&^pte.LargePAT != 0
	}
	return false
}

// setBits ORs bits into the entry at physical address ea, as the CPU's
// locked A/D update does.
func (m *MMU) setBits(ea uint64, bits pte.PTE) {
	if e := pte.PTE(m.Mem.Load64(ea)); e&bits != bits {
		m.Mem.Store64(ea, uint64(e|bits))
	}
}

// FlushPage is INVLPG: it drops va's cached translation.
func (m *MMU) FlushPage(va uintptr) { delete(m.tlb, va>>physmem.PageShift) }

// FlushAll is a CR3 reload: it drops every non-global cached translation.
func (m *MMU) FlushAll() {
	for vpn, t := range m.tlb {
		if !t.global {
			delete(m.tlb, vpn)
		}
	}
}

// Read64 loads the 8 bytes at va as a ring-0 read would.
func (m *MMU) Read64(va uintptr) (uint64, pte.ErrorCode, bool) {
	pa, code, ok := m.Translate(va, pte.AccessRead)
	if !ok {
		return 0, code, false
	}
	return m.Mem.Load64(pa), 0, true
}

// Write64 stores v to the 8 bytes at va as a ring-0 write would.
func (m *MMU) Write64(va uintptr, v uint64) (pte.ErrorCode, bool) {
	pa, code, ok := m.Translate(va, pte.AccessWrite)
	if !ok {
		return code, false
	}
	m.Mem.Store64(pa, v)
	return 0, true
}
