package acpi

import (
	"embed"
	"encoding/binary"
	"errors"
	"io/fs"
	"path"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The tables are embedded, so the tests run inside the kernel too.
//
//go:embed testdata/microvm-smp4 testdata/pc-numa2
var testdata embed.FS

// physMemory is a sparse physical memory: the captured tables at their
// addresses (each file's name is its address in hex), zeros elsewhere below
// 4 GiB, unreadable above.
type physMemory map[uint64][]byte

func loadMemory(t *testing.T, dir string) physMemory {
	t.Helper()
	files, err := fs.Glob(testdata, path.Join("testdata", dir, "*.bin"))
	if err != nil || len(files) == 0 {
		t.Fatalf("testdata/%s: %v (%d files)", dir, err, len(files))
	}
	m := physMemory{}
	for _, f := range files {
		a, err := strconv.ParseUint(strings.TrimSuffix(path.Base(f), ".bin"), 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		if m[a], err = testdata.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func (m physMemory) read(phys uint64, n int) ([]byte, error) {
	if phys+uint64(n) > 1<<32 {
		return nil, errors.New("beyond memory")
	}
	b := make([]byte, n)
	for a, d := range m {
		for i := range d {
			if p := a + uint64(i); p >= phys && p < phys+uint64(n) {
				b[p-phys] = d[i]
			}
		}
	}
	return b, nil
}

func TestMicrovmSMP4(t *testing.T) {
	mem := loadMemory(t, "microvm-smp4")
	top, err := Read(mem.read)
	if err != nil {
		t.Fatal(err)
	}
	want := []Processor{{0, 0, 0, false}, {1, 1, 0, false}, {2, 2, 0, false}, {3, 3, 0, false}}
	if !reflect.DeepEqual(top.Processors, want) {
		t.Errorf("processors %+v, want %+v", top.Processors, want)
	}
	wantIO := []IOAPIC{{0, 0xFEC00000, 0}, {1, 0xFEC10000, 24}}
	if !reflect.DeepEqual(top.IOAPICs, wantIO) {
		t.Errorf("IOAPICs %+v, want %+v", top.IOAPICs, wantIO)
	}
	if top.LocalAPIC != 0xFEE00000 || top.Nodes != 1 || len(top.Memory) != 0 || len(top.Overrides) != 0 {
		t.Errorf("LocalAPIC %#x nodes %d memory %v overrides %v", top.LocalAPIC, top.Nodes, top.Memory, top.Overrides)
	}
	if !reflect.DeepEqual(top.Tables, []string{"FACP", "APIC"}) {
		t.Errorf("tables %v", top.Tables)
	}
}

func TestPCNUMA2(t *testing.T) {
	mem := loadMemory(t, "pc-numa2")
	top, err := Read(mem.read)
	if err != nil {
		t.Fatal(err)
	}
	want := []Processor{{0, 0, 0, false}, {1, 1, 0, false}, {2, 2, 1, false}, {3, 3, 1, false}}
	if !reflect.DeepEqual(top.Processors, want) {
		t.Errorf("processors %+v, want %+v", top.Processors, want)
	}
	wantMem := []MemoryAffinity{
		{Base: 0, Length: 0xA0000, Node: 0},
		{Base: 0x100000, Length: 0x7F00000, Node: 0},
		{Base: 0x8000000, Length: 0x8000000, Node: 1, Domain: 1},
	}
	if !reflect.DeepEqual(top.Memory, wantMem) {
		t.Errorf("memory %+v, want %+v", top.Memory, wantMem)
	}
	if top.Nodes != 2 {
		t.Errorf("nodes %d", top.Nodes)
	}
	wantOv := []InterruptOverride{{0, 0, 2, 0}, {0, 5, 5, 0xD}, {0, 9, 9, 0xD}, {0, 10, 10, 0xD}, {0, 11, 11, 0xD}}
	if !reflect.DeepEqual(top.Overrides, wantOv) {
		t.Errorf("overrides %+v, want %+v", top.Overrides, wantOv)
	}
	if len(top.IOAPICs) != 1 || top.IOAPICs[0] != (IOAPIC{0, 0xFEC00000, 0}) {
		t.Errorf("IOAPICs %+v", top.IOAPICs)
	}
}

func TestNoACPI(t *testing.T) {
	empty := physMemory{}
	if _, err := Read(empty.read); !errors.Is(err, ErrNoRSDP) {
		t.Fatalf("err %v, want ErrNoRSDP", err)
	}
}

// fix rewrites a table's checksum after an edit.
func fix(b []byte) []byte {
	b[9] = 0
	b[9] = -sum(b)
	return b
}

func table(t *testing.T, dir, sig string) (physMemory, uint64, []byte) {
	t.Helper()
	mem := loadMemory(t, dir)
	for a, d := range mem {
		if string(d[:4]) == sig {
			return mem, a, d
		}
	}
	t.Fatalf("no %s in %s", sig, dir)
	return nil, 0, nil
}

func TestMalformed(t *testing.T) {
	cases := []struct {
		name string
		dir  string
		sig  string
		edit func([]byte) []byte
		want error
	}{
		{"MADT checksum", "microvm-smp4", "APIC", func(b []byte) []byte { b[50]++; return b }, ErrChecksum},
		{"SRAT checksum", "pc-numa2", "SRAT", func(b []byte) []byte { b[60]++; return b }, ErrChecksum},
		{"XSDT checksum", "microvm-smp4", "XSDT", func(b []byte) []byte { b[40]++; return b }, ErrChecksum},
		{"RSDP checksum", "microvm-smp4", "RSD ", func(b []byte) []byte { b[30]++; return b }, ErrChecksum},
		{"MADT entry past the end", "microvm-smp4", "APIC", func(b []byte) []byte { b[len(b)-5] = 0x40; return fix(b) }, ErrTruncated},
		{"MADT entry of length 0", "microvm-smp4", "APIC", func(b []byte) []byte { b[45] = 0; return fix(b) }, ErrTruncated},
		{"MADT local APIC entry too short", "microvm-smp4", "APIC", func(b []byte) []byte {
			// Entry 0 claims 4 bytes; the rest of the list then
			// starts mid-entry, which must still decode or fail
			// cleanly: the first entry's own check fails first.
			b[45] = 4
			return fix(b)
		}, ErrTruncated},
		{"SRAT memory entry truncated", "pc-numa2", "SRAT", func(b []byte) []byte {
			b = b[:len(b)-20]
			binary.LittleEndian.PutUint32(b[4:], uint32(len(b)))
			return fix(b)
		}, ErrTruncated},
		{"table length under a header", "microvm-smp4", "APIC", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[4:], 0)
			return b
		}, ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem, a, d := table(t, c.dir, c.sig)
			mem[a] = c.edit(append([]byte(nil), d...))
			_, err := Read(mem.read)
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
}

func TestRSDTOnly(t *testing.T) {
	// pc's SeaBIOS writes an ACPI 1.0 RSDP: the RSDT, 32-bit entries.
	mem := loadMemory(t, "pc-numa2")
	rsdp, err := FindRSDP(mem.read)
	if err != nil {
		t.Fatal(err)
	}
	_, sigs, err := Tables(mem.read, rsdp)
	if err != nil || !reflect.DeepEqual(sigs, []string{"FACP", "APIC", "HPET", "SRAT", "WAET"}) {
		t.Fatalf("tables %v, %v", sigs, err)
	}
}

func TestBootFirst(t *testing.T) {
	top := Topology{Processors: []Processor{{APICID: 0}, {APICID: 1}, {APICID: 2}}}
	if !top.BootFirst(2) || top.Processors[0].APICID != 2 || top.Processors[1].APICID != 0 || top.Processors[2].APICID != 1 {
		t.Fatalf("%+v", top.Processors)
	}
	if top.BootFirst(7) {
		t.Fatal("BootFirst(7) found a processor the MADT does not list")
	}
}

// FuzzDecode: no table bytes make the decoders panic.
func FuzzDecode(f *testing.F) {
	for _, dir := range []string{"microvm-smp4", "pc-numa2"} {
		files, _ := fs.Glob(testdata, path.Join("testdata", dir, "*.bin"))
		for _, p := range files {
			b, _ := testdata.ReadFile(p)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		DecodeMADT(b)
		DecodeSRAT(b)
		if len(b) >= 36 {
			top := &Topology{Processors: []Processor{{}}}
			top.applySRAT(b)
		}
	})
}
