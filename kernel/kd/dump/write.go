package dump

// Writing a dump on the bugcheck path.
//
// Write runs in goroutine context after a fatal error (the kernel calls it
// after the screen). It takes no memory-manager lock: the PFN database is
// copied raw (pfn.AppendDump), page-table frames are read through the
// kernel's FrameReader, and the pool's tag counters are atomics. It
// allocates each section's payload before writing it.
//
// Payloads:
//
//	Record      code uint64, P1..P4 uint64, PC uint64
//	Context     the Registers fields in declaration order (uint64 each),
//	            then the stack depth uint64 and the return addresses
//	PFN         pfn.AppendDump's encoding
//	PageTables  CR3's frame uint64, then per table frame its number
//	            uint64 and its 4096 bytes
//	PoolTags    per tag: tag uint32, then per pool kind allocs uint64,
//	            frees uint64, bytes int64 (pool.TagStat's layout)

import (
	"bytes"
	"encoding/binary"
	"io"

	"ntgo/kernel/bugcheck"
	"ntgo/kernel/kd"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
)

// FrameReader reads physical frames: in the kernel through its mapping of
// physical memory, on the host from simulated memory.
type FrameReader interface {
	ReadFrame(p physmem.PFN, b *[physmem.PageSize]byte) bool
}

// Crash is what the kernel hands Write. Nil pieces are left out of the
// dump.
type Crash struct {
	Record   bugcheck.Record
	Context  kd.Context     // Registers.CR3 locates the page tables
	PFN      *pfn.Database  // the PFN database
	Frames   FrameReader    // reads page-table frames
	PoolTags []pool.TagStat // pool.System.PoolMon()
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
		{SectionPageTables, c.tablesPayload, c.Frames != nil},
		{SectionPoolTags, c.poolTagsPayload, c.PoolTags != nil},
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

func (c *Crash) poolTagsPayload() []byte { return encode(c.PoolTags) }

// tablesPayload walks the tables physically from CR3, depth first, and
// records each table frame once; frames it cannot read are left out (the
// viewer then shows their entries as not present).
func (c *Crash) tablesPayload() []byte {
	root := physmem.FrameOf(c.Context.Registers.CR3 &^ physmem.PageMask)
	b := binary.LittleEndian.AppendUint64(nil, uint64(root))
	seen := map[physmem.PFN]bool{}
	var frame [physmem.PageSize]byte
	var walk func(p physmem.PFN, l pte.Level)
	walk = func(p physmem.PFN, l pte.Level) {
		if seen[p] || !c.Frames.ReadFrame(p, &frame) {
			return
		}
		seen[p] = true
		b = binary.LittleEndian.AppendUint64(b, uint64(p))
		b = append(b, frame[:]...)
		if l == pte.PT {
			return
		}
		var children []physmem.PFN
		for i := range pte.EntriesPerTable {
			e := pte.PTE(binary.LittleEndian.Uint64(frame[i*u64Bytes:]))
			if !e.Valid() || l != pte.PML4 && e.Large() || l == pte.PML4 && i == pte.SelfMapSlot {
				continue
			}
			children = append(children, e.Frame())
		}
		for _, child := range children {
			walk(child, l-1)
		}
	}
	walk(root, pte.PML4)
	return b
}
