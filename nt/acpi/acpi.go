// Package acpi decodes the machine's topology from the ACPI firmware tables:
// the processors (MADT local APIC and x2APIC entries), the I/O APICs and
// interrupt source overrides (MADT), and the NUMA proximity of processors
// and memory ranges (SRAT). It is pure decoding over physical memory read
// through a Memory function, so the same code runs in the kernel (over the
// boot identity map) and in host tests (over tables captured from QEMU,
// testdata/).
//
// Where the parts come from: u-root's pkg/acpi frames tables (NewRaw: a
// table's length against the bytes read) and decodes the RSDT/XSDT entry
// arrays (NewSDT). Its other half reads physical memory through /dev/mem
// and sysfs, which ring 0 has not, so the RSDP search (EBDA, then
// 0xE0000-0xFFFFF), the checksums and the MADT and SRAT entries are decoded
// here (ACPI 6.5 sections 5.2.5, 5.2.12, 5.2.16). NewRaw loops forever on a
// table whose length field is 0 and its TableData slices past a short
// table, so lengths are checked here before either runs.
//
// Every malformed input (bad checksum, a table or entry running past its
// bytes, an unreadable address) is an error, never a panic: the kernel
// falls back to one processor and one node on any error.
package acpi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	uacpi "github.com/u-root/u-root/pkg/acpi"
)

// Memory returns n bytes of physical memory at phys.
type Memory func(phys uint64, n int) ([]byte, error)

// Errors the decoders wrap.
var (
	ErrNoRSDP    = errors.New("acpi: no RSDP found")
	ErrChecksum  = errors.New("acpi: bad checksum")
	ErrTruncated = errors.New("acpi: truncated")
	ErrNoMADT    = errors.New("acpi: no MADT")
)

// Topology is the machine as the firmware describes it.
type Topology struct {
	Processors []Processor // enabled ones, BSP first (the MADT's first enabled entry)
	IOAPICs    []IOAPIC
	Overrides  []InterruptOverride
	Memory     []MemoryAffinity // enabled SRAT ranges; none without an SRAT
	// LocalAPIC is the local APICs' physical address (the MADT's, or its
	// 64-bit override entry).
	LocalAPIC uint64
	// Nodes is the number of NUMA nodes: the distinct proximity domains
	// of the SRAT, numbered densely in ascending domain order; 1 without
	// an SRAT.
	Nodes uint32
	// Tables lists the signatures the RSDT/XSDT points at, in order.
	Tables []string
}

// Processor is one enabled local APIC or x2APIC.
type Processor struct {
	APICID, UID, Node uint32
	X2APIC            bool // from a local x2APIC entry
}

// IOAPIC is one I/O APIC.
type IOAPIC struct {
	ID      uint32
	Address uint32
	GSIBase uint32
}

// InterruptOverride maps an ISA IRQ to a global system interrupt.
type InterruptOverride struct {
	Bus    uint8
	Source uint8  // ISA IRQ
	GSI    uint32 // global system interrupt
	Flags  uint16 // MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2
}

// MemoryAffinity is one enabled SRAT memory range.
type MemoryAffinity struct {
	Base, Length uint64
	Node         uint32
	HotPluggable bool
	NonVolatile  bool
	Domain       uint32 // the SRAT's proximity domain, which Node numbers
}

const headerLength = 36

// Table header offsets and the RSDP's (ACPI 5.2.5.3, 5.2.6).
const (
	rsdpLength1   = 20 // ACPI 1.0 RSDP, which the first checksum covers
	rsdpLength2   = 36
	rsdpRevision  = 15
	rsdpRSDT      = 16
	rsdpLength    = 20
	rsdpXSDT      = 24
	lengthOffset  = 4
	rsdpSignature = "RSD PTR "
)

// Where the RSDP may be (ACPI 5.2.5.1): the first KiB of the EBDA, whose
// real-mode segment is the BIOS data area's word at 0x40E, then the BIOS
// read-only area.
const (
	ebdaPointer  = 0x40E
	ebdaScan     = 1 << 10
	biosAreaBase = 0xE0000
	biosAreaEnd  = 0x100000
	rsdpAlign    = 16
)

func sum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}

// FindRSDP returns the RSDP's physical address.
func FindRSDP(mem Memory) (uint64, error) {
	if p, err := mem(ebdaPointer, 2); err == nil {
		if seg := uint64(binary.LittleEndian.Uint16(p)); seg != 0 {
			if a, ok := scanRSDP(mem, seg<<4, seg<<4+ebdaScan); ok {
				return a, nil
			}
		}
	}
	if a, ok := scanRSDP(mem, biosAreaBase, biosAreaEnd); ok {
		return a, nil
	}
	return 0, ErrNoRSDP
}

// scanRSDP looks for a signature whose ACPI 1.0 checksum holds on a 16-byte
// boundary in [from, to).
func scanRSDP(mem Memory, from, to uint64) (uint64, bool) {
	b, err := mem(from, int(to-from))
	if err != nil {
		return 0, false
	}
	for off := 0; off+rsdpLength1 <= len(b); off += rsdpAlign {
		if string(b[off:off+len(rsdpSignature)]) == rsdpSignature && sum(b[off:off+rsdpLength1]) == 0 {
			return from + uint64(off), true
		}
	}
	return 0, false
}

// readTable reads and checks the table at phys: its length against what
// can be read (u-root's framing), its checksum.
func readTable(mem Memory, phys uint64) (uacpi.Table, error) {
	h, err := mem(phys, headerLength)
	if err != nil {
		return nil, fmt.Errorf("acpi: table at %#x: %w", phys, err)
	}
	n := binary.LittleEndian.Uint32(h[lengthOffset:])
	if n < headerLength {
		return nil, fmt.Errorf("%w: table %q at %#x has length %d", ErrTruncated, h[:4], phys, n)
	}
	b, err := mem(phys, int(n))
	if err != nil {
		return nil, fmt.Errorf("acpi: table %q at %#x (%d bytes): %w", h[:4], phys, n, err)
	}
	tabs, err := uacpi.NewRaw(b)
	if err != nil || len(tabs) != 1 {
		return nil, fmt.Errorf("%w: table %q at %#x: %v", ErrTruncated, h[:4], phys, err)
	}
	if sum(b) != 0 {
		return nil, fmt.Errorf("%w: table %q at %#x", ErrChecksum, h[:4], phys)
	}
	return tabs[0], nil
}

// Tables walks the XSDT (or, for an ACPI 1.0 RSDP or a zero XSDT address,
// the RSDT) from the RSDP at rsdp and returns every table it points at,
// checked, by signature (the first of each).
func Tables(mem Memory, rsdp uint64) (map[string][]byte, []string, error) {
	r, err := mem(rsdp, rsdpLength1)
	if err != nil {
		return nil, nil, fmt.Errorf("acpi: RSDP at %#x: %w", rsdp, err)
	}
	if string(r[:8]) != rsdpSignature || sum(r) != 0 {
		return nil, nil, fmt.Errorf("%w: RSDP at %#x", ErrChecksum, rsdp)
	}
	root := uint64(binary.LittleEndian.Uint32(r[rsdpRSDT:]))
	if r[rsdpRevision] >= 2 {
		r2, err := mem(rsdp, rsdpLength2)
		if err != nil {
			return nil, nil, fmt.Errorf("acpi: RSDP at %#x: %w", rsdp, err)
		}
		n := binary.LittleEndian.Uint32(r2[rsdpLength:])
		if n < rsdpLength2 {
			return nil, nil, fmt.Errorf("%w: RSDP at %#x has length %d", ErrTruncated, rsdp, n)
		}
		if r2, err = mem(rsdp, int(n)); err != nil {
			return nil, nil, fmt.Errorf("acpi: RSDP at %#x: %w", rsdp, err)
		}
		if sum(r2) != 0 {
			return nil, nil, fmt.Errorf("%w: extended RSDP at %#x", ErrChecksum, rsdp)
		}
		if x := binary.LittleEndian.Uint64(r2[rsdpXSDT:]); x != 0 {
			root = x
		}
	}
	t, err := readTable(mem, root)
	if err != nil {
		return nil, nil, err
	}
	if s := t.Sig(); s != "XSDT" && s != "RSDT" {
		return nil, nil, fmt.Errorf("acpi: root table at %#x is %q, not XSDT or RSDT", root, s)
	}
	width := 8
	if t.Sig() == "RSDT" {
		width = 4
	}
	if len(t.TableData())%width != 0 {
		return nil, nil, fmt.Errorf("%w: %s entries (%d bytes)", ErrTruncated, t.Sig(), len(t.TableData()))
	}
	sdt, err := uacpi.NewSDT(t, int64(root))
	if err != nil {
		return nil, nil, fmt.Errorf("acpi: %s at %#x: %w", t.Sig(), root, err)
	}
	tables := map[string][]byte{}
	var sigs []string
	for _, a := range sdt.Addrs {
		if width == 4 {
			a &= 0xFFFFFFFF
		}
		tt, err := readTable(mem, uint64(a))
		if err != nil {
			return nil, nil, err
		}
		sigs = append(sigs, tt.Sig())
		if _, dup := tables[tt.Sig()]; !dup {
			tables[tt.Sig()] = tt.Data()
		}
	}
	return tables, sigs, nil
}

// Read finds the RSDP and decodes the topology from the MADT and, when there
// is one, the SRAT.
func Read(mem Memory) (*Topology, error) {
	rsdp, err := FindRSDP(mem)
	if err != nil {
		return nil, err
	}
	tables, sigs, err := Tables(mem, rsdp)
	if err != nil {
		return nil, err
	}
	madt, ok := tables["APIC"]
	if !ok {
		return nil, ErrNoMADT
	}
	t, err := DecodeMADT(madt)
	if err != nil {
		return nil, err
	}
	t.Tables = sigs
	if srat, ok := tables["SRAT"]; ok {
		if err := t.applySRAT(srat); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// MADT entry types and lengths (ACPI 5.2.12).
const (
	madtEntries       = 44
	madtLocalAPIC     = 0
	madtIOAPIC        = 1
	madtOverride      = 2
	madtAPICAddress   = 5
	madtLocalX2APIC   = 9
	madtEnabled       = 1 << 0
	lenLocalAPIC      = 8
	lenIOAPIC         = 12
	lenOverride       = 10
	lenAPICAddress    = 12
	lenLocalX2APIC    = 16
	madtLocalAPICAddr = 36
)

// entries calls f with each (type, entry) of the entry list b; an entry
// whose length is under 2 or runs past b is ErrTruncated.
func entries(what string, b []byte, f func(typ byte, e []byte) error) error {
	for off := 0; off < len(b); {
		if len(b)-off < 2 {
			return fmt.Errorf("%w: %s entry at offset %d", ErrTruncated, what, off)
		}
		n := int(b[off+1])
		if n < 2 || off+n > len(b) {
			return fmt.Errorf("%w: %s entry type %d at offset %d has length %d of %d left", ErrTruncated, what, b[off], off, n, len(b)-off)
		}
		if err := f(b[off], b[off:off+n]); err != nil {
			return err
		}
		off += n
	}
	return nil
}

func short(what string, typ byte, e []byte, want int) error {
	if len(e) < want {
		return fmt.Errorf("%w: %s entry type %d has length %d, needs %d", ErrTruncated, what, typ, len(e), want)
	}
	return nil
}

// DecodeMADT decodes a whole MADT (header included, checksum checked).
func DecodeMADT(b []byte) (*Topology, error) {
	if err := checkTable("APIC", b, madtEntries); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	t := &Topology{LocalAPIC: uint64(le.Uint32(b[madtLocalAPICAddr:])), Nodes: 1}
	err := entries("MADT", b[madtEntries:], func(typ byte, e []byte) error {
		switch typ {
		case madtLocalAPIC:
			if err := short("MADT", typ, e, lenLocalAPIC); err != nil {
				return err
			}
			if le.Uint32(e[4:])&madtEnabled != 0 {
				t.Processors = append(t.Processors, Processor{APICID: uint32(e[3]), UID: uint32(e[2])})
			}
		case madtLocalX2APIC:
			if err := short("MADT", typ, e, lenLocalX2APIC); err != nil {
				return err
			}
			if le.Uint32(e[8:])&madtEnabled != 0 {
				t.Processors = append(t.Processors, Processor{APICID: le.Uint32(e[4:]), UID: le.Uint32(e[12:]), X2APIC: true})
			}
		case madtIOAPIC:
			if err := short("MADT", typ, e, lenIOAPIC); err != nil {
				return err
			}
			t.IOAPICs = append(t.IOAPICs, IOAPIC{ID: uint32(e[2]), Address: le.Uint32(e[4:]), GSIBase: le.Uint32(e[8:])})
		case madtOverride:
			if err := short("MADT", typ, e, lenOverride); err != nil {
				return err
			}
			t.Overrides = append(t.Overrides, InterruptOverride{Bus: e[2], Source: e[3], GSI: le.Uint32(e[4:]), Flags: le.Uint16(e[8:])})
		case madtAPICAddress:
			if err := short("MADT", typ, e, lenAPICAddress); err != nil {
				return err
			}
			t.LocalAPIC = le.Uint64(e[4:])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(t.Processors) == 0 {
		return nil, fmt.Errorf("acpi: MADT lists no enabled processor")
	}
	return t, nil
}

// checkTable checks a table's signature, length field and checksum, and
// that it holds at least min bytes.
func checkTable(sig string, b []byte, min int) error {
	if len(b) < headerLength || string(b[:4]) != sig {
		return fmt.Errorf("%w: not a %s table (%d bytes)", ErrTruncated, sig, len(b))
	}
	if n := binary.LittleEndian.Uint32(b[lengthOffset:]); int(n) != len(b) || len(b) < min {
		return fmt.Errorf("%w: %s length field %d, %d bytes, needs %d", ErrTruncated, sig, n, len(b), min)
	}
	if sum(b) != 0 {
		return fmt.Errorf("%w: %s", ErrChecksum, sig)
	}
	return nil
}

// SRAT entry types and lengths (ACPI 5.2.16).
const (
	sratEntries        = 48
	sratLocalAPIC      = 0
	sratMemory         = 1
	sratLocalX2APIC    = 2
	sratEnabled        = 1 << 0
	sratHotPluggable   = 1 << 1
	sratNonVolatile    = 1 << 2
	lenSratLocalAPIC   = 16
	lenSratMemory      = 40
	lenSratLocalX2APIC = 24
)

// Affinity is the SRAT's content before domains become node numbers.
type Affinity struct {
	Processors map[uint32]uint32 // APIC ID -> proximity domain, enabled entries
	Memory     []MemoryAffinity  // enabled ranges, Node not yet set
}

// DecodeSRAT decodes a whole SRAT (header included, checksum checked).
func DecodeSRAT(b []byte) (*Affinity, error) {
	if err := checkTable("SRAT", b, sratEntries); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	a := &Affinity{Processors: map[uint32]uint32{}}
	err := entries("SRAT", b[sratEntries:], func(typ byte, e []byte) error {
		switch typ {
		case sratLocalAPIC:
			if err := short("SRAT", typ, e, lenSratLocalAPIC); err != nil {
				return err
			}
			if le.Uint32(e[4:])&sratEnabled != 0 {
				domain := uint32(e[2]) | uint32(e[9])<<8 | uint32(e[10])<<16 | uint32(e[11])<<24
				a.Processors[uint32(e[3])] = domain
			}
		case sratLocalX2APIC:
			if err := short("SRAT", typ, e, lenSratLocalX2APIC); err != nil {
				return err
			}
			if le.Uint32(e[12:])&sratEnabled != 0 {
				a.Processors[le.Uint32(e[8:])] = le.Uint32(e[4:])
			}
		case sratMemory:
			if err := short("SRAT", typ, e, lenSratMemory); err != nil {
				return err
			}
			flags := le.Uint32(e[28:])
			if flags&sratEnabled == 0 {
				return nil
			}
			a.Memory = append(a.Memory, MemoryAffinity{
				Base:         le.Uint64(e[8:]),
				Length:       le.Uint64(e[16:]),
				Domain:       le.Uint32(e[2:]),
				HotPluggable: flags&sratHotPluggable != 0,
				NonVolatile:  flags&sratNonVolatile != 0,
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// applySRAT numbers the SRAT's proximity domains densely in ascending
// order and gives every processor and memory range its node. A processor
// the SRAT does not name stays on node 0.
func (t *Topology) applySRAT(b []byte) error {
	a, err := DecodeSRAT(b)
	if err != nil {
		return err
	}
	var domains []uint32
	for _, d := range a.Processors {
		domains = append(domains, d)
	}
	for _, m := range a.Memory {
		domains = append(domains, m.Domain)
	}
	slices.Sort(domains)
	domains = slices.Compact(domains)
	node := func(d uint32) uint32 {
		i, _ := slices.BinarySearch(domains, d)
		return uint32(i)
	}
	for i := range t.Processors {
		if d, ok := a.Processors[t.Processors[i].APICID]; ok {
			t.Processors[i].Node = node(d)
		}
	}
	for _, m := range a.Memory {
		m.Node = node(m.Domain)
		t.Memory = append(t.Memory, m)
	}
	t.Nodes = uint32(max(1, len(domains)))
	return nil
}

// BootFirst moves the processor with APIC ID bsp to the front, the order
// the kernel numbers processors in (the boot processor is 0). It reports
// whether the MADT lists bsp.
func (t *Topology) BootFirst(bsp uint32) bool {
	i := slices.IndexFunc(t.Processors, func(p Processor) bool { return p.APICID == bsp })
	if i < 0 {
		return false
	}
	p := t.Processors[i]
	copy(t.Processors[1:i+1], t.Processors[:i])
	t.Processors[0] = p
	return true
}
