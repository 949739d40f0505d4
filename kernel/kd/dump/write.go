// What a dump holds, and writing it on the bugcheck path.
//
// The kernel fills a Crash in goroutine context after a fatal error, when
// the failing code may hold any memory-manager lock, so every piece is
// taken without those locks: the PFN database is copied first, before the
// bugcheck path allocates anything (pfn.Database.Snapshot, into memory
// reserved at boot), so its counts are the machine's at the stop; then the
// !vm counters (single words), the pool's tag counters (atomics), the pool
// (pool.System.Capture: pages and bookkeeping, no descriptor lock) and the
// page tables (CaptureTables, through the debugger's Memory, which refuses
// pages that are not present). Those later pieces allocate, so they may
// also show the Go heap's growth for the bugcheck path itself. Write then
// encodes the Crash, allocating each section's payload before writing it.
//
// Payloads:
//
//	Record      code uint64, P1..P4 uint64, PC uint64
//	Context     the Registers fields in declaration order (uint64 each),
//	            then the stack depth uint64 and the return addresses
//	PFN         pfn.AppendDump's encoding
//	PageTables  CR3's frame uint64, then per table frame, by number, its
//	            number uint64 and its 4096 bytes
//	PoolTags    per tag: tag uint32, then per pool kind allocs uint64,
//	            frees uint64, bytes int64 (pool.TagStat's layout)
//	VM          vmstat.Counters' fields (uint64 each)
//	Pool        pool.ImageInfo's fields in declaration order, then per big
//	            allocation pool.BigAllocation's (VA, pages uint64, tag
//	            uint32, kind uint8, quota bool)
//	Memory      per page, by address: its address uint64 and its 4096
//	            bytes (the pool's pages)
//	Reservations per reservation: start uint64, end uint64
//	Modules     per module: start uint64, end uint64, name and package
//	            (each a length uint32 and its bytes), the tag count
//	            uint32 and the tags uint32 each
//	Code        page records, as Memory (kernel code pages)
//	Threads     per thread: index uint32, TID uint32, idle uint32 (0/1),
//	            CPU time ns uint64, switches uint64, RIP uint64, then state,
//	            wait and note as strings (length uint32, bytes)
//	SecurePool  securepool.Image.AppendDump's encoding
//	Processors  per processor: number uint32, IRQL uint32, the Registers
//	            fields in declaration order (uint64 each), then its state
//	            as a string

package dump

import (
	"bytes"
	"encoding/binary"
	"io"
	"maps"
	"slices"

	"ntgo/kernel/kd"
	"ntgo/kernel/ldr"
	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/mm/securepool"
	"ntgo/mm/vmstat"
	"ntgo/nt/bugcheck"
)

// Crash is a dump's contents: what the kernel captures and Write writes,
// and what Read gives back. Nil pieces are left out of the dump.
type Crash struct {
	Record   bugcheck.Record
	Context  kd.Context
	PFN      *pfn.Database // a copy: a Snapshot in the kernel, OpenDump's when read
	Counters *vmstat.Counters
	PoolTags []pool.TagStat // pool.System.PoolMon()
	Pool     *pool.Image    // its Pages are the dump's raw memory
	Tables   *Tables
	// Reservations are the Go runtime's (mm.RuntimeReservations).
	Reservations []layout.Reservation
	// Modules is the loaded-module list (ldr.TryModules).
	Modules []ldr.Module
	// Threads is the kernel's thread table (!thread).
	Threads []kd.Thread
	// Code is kernel code pages by address (CaptureCode): the viewer
	// checks a kernel ELF against them before naming addresses with it.
	Code map[uintptr]*[physmem.PageSize]byte
	// Secure is the secure pools with their header pages
	// (securepool.System.TryCapture).
	Secure *securepool.Image
	// Processors is every processor's registers at the stop (~).
	Processors []kd.Processor
}

// CaptureCode reads the code page holding pc through m; a page m refuses
// is left out.
func CaptureCode(pc uintptr, m kd.Memory) map[uintptr]*[physmem.PageSize]byte {
	page := new([physmem.PageSize]byte)
	if !m.Read(pc&^physmem.PageMask, page[:]) {
		return nil
	}
	return map[uintptr]*[physmem.PageSize]byte{pc &^ physmem.PageMask: page}
}

// Tables are the page-table frames reachable from a root, as the CPU walks
// them, by frame number.
type Tables struct {
	Root   physmem.PFN
	Frames map[physmem.PFN]*[physmem.PageSize]byte
}

// CaptureTables reads the page tables of the current address space, whose
// PML4 is the frame in cr3, through m at their self-map addresses, depth
// first, each table frame once. A table m refuses is left out: the viewer
// then shows the entries below it as not present.
func CaptureTables(cr3 uint64, m kd.Memory) *Tables {
	t := &Tables{Root: physmem.FrameOf(cr3 &^ physmem.PageMask), Frames: map[physmem.PFN]*[physmem.PageSize]byte{}}
	t.walk(m, pte.PML4, 0, t.Root)
	return t
}

// walk reads the level-l table on va's path, frame p, and the tables below.
func (t *Tables) walk(m kd.Memory, l pte.Level, va uintptr, p physmem.PFN) {
	table := new([physmem.PageSize]byte)
	if _, seen := t.Frames[p]; seen || !m.Read(pte.TableAddress(l, va), table[:]) {
		return
	}
	t.Frames[p] = table
	if l == pte.PT {
		return
	}
	for i := range pte.EntriesPerTable {
		e := pte.PTE(binary.LittleEndian.Uint64(table[i*u64Bytes:]))
		if !e.Valid() || l != pte.PML4 && e.Large() || l == pte.PML4 && i == pte.SelfMapSlot {
			continue
		}
		t.walk(m, l-1, pte.Canonical(va|uintptr(i)<<l.Shift()), e.Frame())
	}
}

// VMReport is !vm of the crash; false if the dump lacks the PFN database
// or the counters.
func (c *Crash) VMReport() (vmstat.Report, bool) {
	if c.PFN == nil || c.Counters == nil {
		return vmstat.Report{}, false
	}
	r := vmstat.Report{PFN: c.PFN.Stats(), Counters: *c.Counters}
	if c.Pool != nil {
		r.Pools = vmstat.NewPools(c.Pool, regionPages(c.Pool.Info.NonPaged), regionPages(c.Pool.Info.Paged))
	}
	return r, true
}

func regionPages(r pool.RegionInfo) vmstat.PoolPages {
	return vmstat.PoolPages{InUse: r.InUse, Max: r.Size / physmem.PageSize}
}

// Write writes c as a dump to w (the COM2 port in the kernel).
func Write(w io.Writer, c *Crash) error {
	sections := []struct {
		s       Section
		payload func() []byte
		present bool
	}{
		{SectionRecord, c.recordPayload, true},
		{SectionContext, c.contextPayload, true},
		{SectionPFN, func() []byte { return c.PFN.AppendDump(nil) }, c.PFN != nil},
		{SectionPageTables, c.tablesPayload, c.Tables != nil},
		{SectionPoolTags, func() []byte { return encode(c.PoolTags) }, c.PoolTags != nil},
		{SectionVM, func() []byte { return encode(c.Counters) }, c.Counters != nil},
		{SectionPool, func() []byte { return encode(c.Pool.Info, c.Pool.Big) }, c.Pool != nil},
		{SectionMemory, c.memoryPayload, c.Pool != nil},
		{SectionReservations, func() []byte { return encode(c.Reservations) }, c.Reservations != nil},
		{SectionModules, c.modulesPayload, c.Modules != nil},
		{SectionThreads, c.threadsPayload, c.Threads != nil},
		{SectionCode, func() []byte { return appendPageRecords(nil, c.Code) }, c.Code != nil},
		{SectionSecurePool, func() []byte { return c.Secure.AppendDump(nil) }, c.Secure != nil},
		{SectionProcessors, c.processorsPayload, c.Processors != nil},
	}
	if err := writeHeader(w); err != nil {
		return err
	}
	for _, s := range sections {
		if !s.present {
			continue
		}
		if err := writeSection(w, s.s, s.payload()); err != nil {
			return err
		}
	}
	return writeSection(w, sectionEnd, nil)
}

// encode is binary.Write into a buffer; every value written is of fixed
// size, so it cannot fail.
func encode(vs ...any) []byte {
	var b bytes.Buffer
	for _, v := range vs {
		if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
			panic(err)
		}
	}
	return b.Bytes()
}

func (c *Crash) recordPayload() []byte {
	r := &c.Record
	return encode(uint64(r.Code), u64s(r.Params[:]), uint64(r.PC))
}

func (c *Crash) contextPayload() []byte {
	return encode(c.Context.Registers, uint64(len(c.Context.Stack)), u64s(c.Context.Stack))
}

func u64s(v []uintptr) []uint64 {
	out := make([]uint64, len(v))
	for i, x := range v {
		out[i] = uint64(x)
	}
	return out
}

func (c *Crash) tablesPayload() []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(c.Tables.Root))
	return appendPageRecords(b, c.Tables.Frames)
}

func (c *Crash) memoryPayload() []byte { return appendPageRecords(nil, c.Pool.Pages) }

func (c *Crash) modulesPayload() []byte {
	var b []byte
	for _, m := range c.Modules {
		b = binary.LittleEndian.AppendUint64(b, uint64(m.Start))
		b = binary.LittleEndian.AppendUint64(b, uint64(m.End))
		b = appendString(b, m.Name)
		b = appendString(b, m.Package)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(m.Tags)))
		for _, t := range m.Tags {
			b = binary.LittleEndian.AppendUint32(b, uint32(t))
		}
	}
	return b
}

func (c *Crash) threadsPayload() []byte {
	var b []byte
	for _, th := range c.Threads {
		idle := uint32(0)
		if th.Idle {
			idle = 1
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(th.Index))
		b = binary.LittleEndian.AppendUint32(b, uint32(th.TID))
		b = binary.LittleEndian.AppendUint32(b, idle)
		b = binary.LittleEndian.AppendUint64(b, uint64(th.CPUTime))
		b = binary.LittleEndian.AppendUint64(b, th.Switches)
		b = binary.LittleEndian.AppendUint64(b, uint64(th.RIP))
		for _, s := range []string{th.State, th.Wait, th.Note} {
			b = appendString(b, s)
		}
	}
	return b
}

func (c *Crash) processorsPayload() []byte {
	var b []byte
	for _, p := range c.Processors {
		b = binary.LittleEndian.AppendUint32(b, p.Number)
		b = binary.LittleEndian.AppendUint32(b, uint32(p.IRQL))
		b = append(b, encode(p.Registers)...)
		b = appendString(b, p.State)
	}
	return b
}

// appendString appends s as its length uint32 and its bytes.
func appendString(b []byte, s string) []byte {
	return append(binary.LittleEndian.AppendUint32(b, uint32(len(s))), s...)
}

// appendPageRecords appends a page record per page, by key: the key
// (frame number or address) uint64 and the page's bytes.
func appendPageRecords[K pageKey](b []byte, pages map[K]*[physmem.PageSize]byte) []byte {
	for _, k := range slices.Sorted(maps.Keys(pages)) {
		b = binary.LittleEndian.AppendUint64(b, uint64(k))
		b = append(b, pages[k][:]...)
	}
	return b
}
