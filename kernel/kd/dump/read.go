// Reading a dump back into the memory manager's own types, so the viewer's
// views print what the live kernel would have printed: the PFN database
// reopens read-only (pfn.OpenDump); the pool image gets its raw pages back,
// for !pool and the pool lines of !vm; and the page-table frames go back
// into simulated physical memory at their frame numbers, where ptesim's MMU
// walks them through the self-map exactly as the CPU did, for
// pte.PageTables.Lookup.

package dump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"ntgo/kernel/kd"
	"ntgo/kernel/ldr"
	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/mm/pte/ptesim"
	"ntgo/mm/securepool"
	"ntgo/mm/vmstat"
	"ntgo/nt/bugcheck"
)

// Dump is a dump read back: the Crash (pieces the dump lacks are nil) and
// the views built over it.
type Dump struct {
	Crash
	// PageTables walks Crash.Tables; Close releases its memory.
	PageTables *pte.PageTables
	tables     *physmem.Sim
	// memory is the dump's raw pages, by address.
	memory pageMemory
	// Kernel, when the viewer found the kernel's ELF, names code addresses
	// and supplies the kernel text the dump does not carry
	// (kernel/kd/kimage); nil leaves addresses bare.
	Kernel KernelImage
}

// KernelImage is the kernel's ELF file as the viewer reads it.
type KernelImage interface {
	kd.Symbols
	kd.Memory
}

// Read reads a dump. A damaged or missing record or context is an error;
// other damaged sections are an error too, since the caller asked for all.
// A truncated dump whose record and context arrived is returned with an
// error wrapping ErrTruncated: the sections that arrived whole are usable.
func Read(r io.Reader) (*Dump, error) {
	sections, truncated := readSections(r)
	if truncated != nil && !errors.Is(truncated, ErrTruncated) {
		return nil, truncated
	}
	d := &Dump{}
	rec, ok := sections[SectionRecord]
	if !ok {
		if truncated != nil {
			return nil, fmt.Errorf("%w before the bugcheck record", ErrTruncated)
		}
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
	var err error
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
	if b, ok := sections[SectionVM]; ok {
		d.Counters = new(vmstat.Counters)
		if err := decode(b, d.Counters); err != nil {
			return nil, err
		}
	}
	if d.memory, err = readPageRecords[uintptr](sections[SectionMemory]); err != nil {
		return nil, err
	}
	if b, ok := sections[SectionPool]; ok {
		if err := d.readPool(b); err != nil {
			return nil, err
		}
	}
	if b, ok := sections[SectionReservations]; ok {
		d.Reservations = make([]layout.Reservation, len(b)/binary.Size(layout.Reservation{}))
		if err := decode(b, d.Reservations); err != nil {
			return nil, err
		}
	}
	if b, ok := sections[SectionModules]; ok {
		if d.Modules, err = readModules(b); err != nil {
			return nil, err
		}
	}
	if b, ok := sections[SectionCode]; ok {
		if d.Code, err = readPageRecords[uintptr](b); err != nil {
			return nil, err
		}
		for a, p := range d.Code {
			d.memory[a] = p
		}
	}
	if b, ok := sections[SectionSecurePool]; ok {
		if d.Secure, err = securepool.OpenDump(b); err != nil {
			return nil, err
		}
	}
	if b, ok := sections[SectionThreads]; ok {
		if d.Threads, err = readThreads(b); err != nil {
			return nil, err
		}
	}
	if b, ok := sections[SectionProcessors]; ok {
		if d.Processors, err = readProcessors(b); err != nil {
			return nil, err
		}
	}
	return d, truncated
}

// readThreads decodes the Threads section (write.go's layout).
func readThreads(b []byte) ([]kd.Thread, error) {
	threads := []kd.Thread{}
	r := &byteReader{b: b}
	for len(r.b) > 0 && r.err == nil {
		th := kd.Thread{Index: int32(r.u32()), TID: int32(r.u32()), Idle: r.u32() != 0,
			CPUTime: time.Duration(r.u64()), Switches: r.u64(), RIP: uintptr(r.u64())}
		th.State, th.Wait, th.Note = r.str(), r.str(), r.str()
		threads = append(threads, th)
	}
	return threads, r.err
}

// readProcessors decodes the Processors section (write.go's layout).
func readProcessors(b []byte) ([]kd.Processor, error) {
	ps := []kd.Processor{}
	r := &byteReader{b: b}
	for len(r.b) > 0 && r.err == nil {
		p := kd.Processor{Number: r.u32(), IRQL: uint8(r.u32())}
		if err := decode(r.take(binary.Size(kd.Registers{})), &p.Registers); err != nil {
			return nil, err
		}
		p.State = r.str()
		ps = append(ps, p)
	}
	return ps, r.err
}

// readModules decodes the Modules section (write.go's layout).
func readModules(b []byte) ([]ldr.Module, error) {
	mods := []ldr.Module{}
	r := &byteReader{b: b}
	for len(r.b) > 0 {
		m := ldr.Module{Start: uintptr(r.u64()), End: uintptr(r.u64()), Name: r.str(), Package: r.str()}
		for n := r.u32(); n > 0 && r.err == nil; n-- {
			m.Tags = append(m.Tags, pool.Tag(r.u32()))
		}
		if r.err != nil {
			return nil, r.err
		}
		mods = append(mods, m)
	}
	return mods, nil
}

// byteReader takes little-endian values off the front of b; a read past
// the end sets err and yields zeros.
type byteReader struct {
	b   []byte
	err error
}

func (r *byteReader) take(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = fmt.Errorf("dump: short section")
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *byteReader) u32() uint32 { return binary.LittleEndian.Uint32(r.take(u32Bytes)) }
func (r *byteReader) u64() uint64 { return binary.LittleEndian.Uint64(r.take(u64Bytes)) }
func (r *byteReader) str() string {
	n := r.u32()
	if uint64(n) > uint64(len(r.b)) {
		r.err = fmt.Errorf("dump: short section")
		return ""
	}
	return string(r.take(int(n)))
}

// Close releases the simulated memory behind PageTables.
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

func (d *Dump) readTables(b []byte) error {
	if len(b) < u64Bytes {
		return fmt.Errorf("dump: page-table section of %d bytes", len(b))
	}
	frames, err := readPageRecords[physmem.PFN](b[u64Bytes:])
	if err != nil {
		return err
	}
	d.Tables = &Tables{Root: physmem.PFN(binary.LittleEndian.Uint64(b)), Frames: frames}
	highest := d.Tables.Root
	for p := range frames {
		highest = max(highest, p)
	}
	d.tables = physmem.NewSim(highest + 1)
	for p, f := range frames {
		*d.tables.Frame(p) = *f
	}
	// A read-only walker: Lookup only loads entries, so it needs no frame
	// source and no flusher.
	d.PageTables = pte.New(ptesim.Tables{MMU: ptesim.NewMMU(d.tables, d.Tables.Root)}, nil, nil)
	return nil
}

// readPool decodes the pool's bookkeeping and gives it the raw pages.
func (d *Dump) readPool(b []byte) error {
	infoBytes, bigBytes := binary.Size(pool.ImageInfo{}), binary.Size(pool.BigAllocation{})
	if len(b) < infoBytes || (len(b)-infoBytes)%bigBytes != 0 {
		return fmt.Errorf("dump: pool section of %d bytes", len(b))
	}
	d.Pool = &pool.Image{Big: make([]pool.BigAllocation, (len(b)-infoBytes)/bigBytes), Pages: d.memory}
	return decode(b, &d.Pool.Info, d.Pool.Big)
}
