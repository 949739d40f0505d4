package dump

// Reading a dump back into the memory manager's own types, so the viewer's
// !pfn, !memusage and !pte print what the live kernel would have printed:
// the PFN database reopens read-only (pfn.OpenDump), and the page-table
// frames go back into simulated physical memory at their frame numbers,
// where ptesim's MMU walks them through the self-map exactly as the CPU
// did, for pte.PageTables.Lookup.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"ntgo/kernel/bugcheck"
	"ntgo/kernel/kd"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/mm/pte/ptesim"
)

// Dump is a dump read back. Pieces the dump lacks are nil.
type Dump struct {
	Record   bugcheck.Record
	Context  kd.Context
	PFN      *pfn.Database
	PoolTags []pool.TagStat // in the order the kernel gave them (pool.PoolMon's)
	// Tables walks the dumped page tables; Close releases its memory.
	Tables *pte.PageTables
	tables *physmem.Sim
}

// Read reads a dump. A damaged or missing record or context is an error;
// other damaged sections are an error too, since the caller asked for all.
func Read(r io.Reader) (*Dump, error) {
	sections, err := readSections(r)
	if err != nil {
		return nil, err
	}
	d := &Dump{}
	rec, ok := sections[SectionRecord]
	if !ok {
		return nil, fmt.Errorf("dump: no bugcheck record")
	}
	var code uint64
	var params [4]uint64
	var pc uint64
	if err := decode(rec, &code, &params, &pc); err != nil {
		return nil, err
	}
	d.Record = bugcheck.Record{Code: bugcheck.Code(code), PC: uintptr(pc)}
	for i, p := range params {
		d.Record.Params[i] = uintptr(p)
	}
	if err := d.readContext(sections[SectionContext]); err != nil {
		return nil, err
	}
	if b, ok := sections[SectionPFN]; ok {
		if d.PFN, err = pfn.OpenDump(b); err != nil {
			return nil, err
		}
	}
	if b, ok := sections[SectionPageTables]; ok {
		if err := d.readTables(b); err != nil {
			return nil, err
		}
	}
	if b, ok := sections[SectionPoolTags]; ok {
		d.PoolTags = make([]pool.TagStat, len(b)/binary.Size(pool.TagStat{}))
		if err := decode(b, d.PoolTags); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Close releases the simulated memory behind Tables.
func (d *Dump) Close() {
	if d.tables != nil {
		d.tables.Close()
	}
}

// decode reads fixed-size values from b, which they must fill exactly.
func decode(b []byte, vs ...any) error {
	r := bytes.NewReader(b)
	for _, v := range vs {
		if err := binary.Read(r, binary.LittleEndian, v); err != nil {
			return fmt.Errorf("dump: short section: %w", err)
		}
	}
	if r.Len() != 0 {
		return fmt.Errorf("dump: %d stray bytes at a section's end", r.Len())
	}
	return nil
}

func (d *Dump) readContext(b []byte) error {
	regsBytes := binary.Size(kd.Registers{})
	if len(b) < regsBytes+u64Bytes {
		return fmt.Errorf("dump: no thread context")
	}
	depth := binary.LittleEndian.Uint64(b[regsBytes:])
	if depth > uint64(len(b)) {
		return fmt.Errorf("dump: stack depth %d beyond the section", depth)
	}
	stack := make([]uint64, depth)
	var n uint64
	if err := decode(b, &d.Context.Registers, &n, stack); err != nil {
		return err
	}
	for _, pc := range stack {
		d.Context.Stack = append(d.Context.Stack, uintptr(pc))
	}
	return nil
}

// tableRecordBytes is one dumped table frame: its number and contents.
const tableRecordBytes = u64Bytes + physmem.PageSize

func (d *Dump) readTables(b []byte) error {
	if len(b) < u64Bytes || (len(b)-u64Bytes)%tableRecordBytes != 0 {
		return fmt.Errorf("dump: page-table section of %d bytes", len(b))
	}
	root := physmem.PFN(binary.LittleEndian.Uint64(b))
	records := b[u64Bytes:]
	highest := root
	for off := 0; off < len(records); off += tableRecordBytes {
		highest = max(highest, physmem.PFN(binary.LittleEndian.Uint64(records[off:])))
	}
	d.tables = physmem.NewSim(highest + 1)
	for off := 0; off < len(records); off += tableRecordBytes {
		p := physmem.PFN(binary.LittleEndian.Uint64(records[off:]))
		copy(d.tables.Frame(p)[:], records[off+u64Bytes:off+tableRecordBytes])
	}
	// A read-only walker: Lookup only loads entries, so it needs no frame
	// source and no flusher.
	d.Tables = pte.New(ptesim.Tables{MMU: ptesim.NewMMU(d.tables, root)}, nil, nil)
	return nil
}
