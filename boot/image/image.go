// Package image makes a linked ntgo binary bootable by QEMU's -kernel loader.
//
// Why Multiboot 1: QEMU's x86 loader tries Multiboot before PVH, on both
// -machine pc and -machine microvm, and Multiboot hands over a physical
// memory map and the command line in one structure. QEMU refuses an ELF64
// Multiboot image unless the header carries the "a.out kludge" address
// fields, which suit Go's output: the linker lays the file out linearly
// (file offset = virtual address - image base for every segment), so the
// whole file loads as one image at the image base and the bss follows it.
//
// The header must sit in the first 8 KiB, 4-byte aligned. The first 8 KiB of
// .text belong to the runtime's leaf packages, so no Go symbol can hold it;
// instead mkboot writes it into the padding between the ELF program headers
// and the first section, followed by a small 32-bit trampoline (hand-encoded
// below, one instruction a line) and the GDT it loads. The trampoline builds
// an identity map of the first 4 GiB with 2 MiB pages, enables PAE, long mode,
// NX, SYSCALL, write protection and SSE, and jumps to boot.entry64, Go
// assembly that takes it from there.
package image

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
)

// Multiboot 1 header fields.
const (
	mbMagic        = 0x1BADB002
	mbFlagPageAlgn = 1 << 0  // modules page aligned
	mbFlagMemInfo  = 1 << 1  // memory map wanted
	mbFlagAout     = 1 << 16 // address fields below are valid (a.out kludge)
	mbHeaderSize   = 32
	mbSearchLimit  = 8192
)

// ELF64 header field offsets.
const (
	elfPhoff     = 0x20
	elfShoff     = 0x28
	elfPhentsize = 0x36
	elfPhnum     = 0x38
	elfShentsize = 0x3A
	elfShnum     = 0x3C
)

// Where the trampoline builds the boot page tables: low memory that neither
// QEMU's loader nor the image uses. PML4, one PDPT, four PDs.
const (
	bootPML4     = 0x10000
	bootPDPT     = bootPML4 + 0x1000
	bootPD       = bootPDPT + 0x1000 // four consecutive PDs
	bootPTBytes  = 6 * 0x1000
	pdEntries    = 4 * 512
	largePage    = 1 << 21
	mmioFirstPDE = 3 * 512 // PDEs for 3 GiB..4 GiB: the PCI/MMIO hole
)

// Page-table entry bits used by the boot map.
const (
	ptePresent = 1 << 0
	pteWrite   = 1 << 1
	ptePWT     = 1 << 3
	ptePCD     = 1 << 4
	ptePS      = 1 << 7
)

// Control-register and MSR bits the trampoline sets.
const (
	cr0PE     = 1 << 0
	cr0MP     = 1 << 1
	cr0EM     = 1 << 2
	cr0TS     = 1 << 3
	cr0WP     = 1 << 16
	cr0PG     = 1 << 31
	cr4PAE    = 1 << 5
	cr4PGE    = 1 << 7
	cr4OSFXSR = 1 << 9
	cr4OSXMM  = 1 << 10
	msrEFER   = 0xC0000080
	eferSCE   = 1 << 0
	eferLME   = 1 << 8
	eferNXE   = 1 << 11
)

// GDT selectors of the boot GDT; the kernel later loads its own with a TSS.
const (
	selCode64 = 0x08
	selData   = 0x10
	gdtCode64 = 0x00AF9A000000FFFF // present, ring 0, code, L=1
	gdtData   = 0x00CF92000000FFFF // present, ring 0, data, writable
)

// asm accumulates hand-encoded machine code at a known load address.
type asm struct {
	buf  bytes.Buffer
	base uint32 // address of buf[0] once loaded
}

func (a *asm) pc() uint32              { return a.base + uint32(a.buf.Len()) }
func (a *asm) b(bs ...byte)            { a.buf.Write(bs) }
func (a *asm) u16(v uint16)            { binary.Write(&a.buf, binary.LittleEndian, v) }
func (a *asm) u32(v uint32)            { binary.Write(&a.buf, binary.LittleEndian, v) }
func (a *asm) u64(v uint64)            { binary.Write(&a.buf, binary.LittleEndian, v) }
func (a *asm) movMem32(addr, v uint32) { a.b(0xC7, 0x05); a.u32(addr); a.u32(v) } // mov dword [addr], v

// Patch makes the linked ntgo ELF in data bootable in place (see the package
// comment). It fails if the file is not laid out linearly, the boot entry is
// missing (ntgo/boot not linked in) or the padding is too small or in use.
func Patch(data []byte) error {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return err
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("not an x86-64 ELF64")
	}
	entry64, err := findEntry(f, data)
	if err != nil {
		return err
	}
	// The image: every PT_LOAD must satisfy offset = vaddr - base.
	var base, fileEnd, memEnd uint64
	first := true
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		if first {
			if p.Off != 0 {
				return fmt.Errorf("first PT_LOAD does not start at file offset 0")
			}
			base, first = p.Vaddr, false
		}
		if p.Vaddr-base != p.Off {
			return fmt.Errorf("segment at %#x is not laid out linearly (offset %#x)", p.Vaddr, p.Off)
		}
		fileEnd = max(fileEnd, p.Off+p.Filesz)
		memEnd = max(memEnd, p.Vaddr+p.Memsz)
	}
	if first || memEnd >= 1<<32 {
		return fmt.Errorf("no loadable image below 4 GiB")
	}
	// The free space: after the program and section header tables (Go puts
	// both in the first page), before the first section's contents.
	le := binary.LittleEndian
	phEnd := le.Uint64(data[elfPhoff:]) + uint64(le.Uint16(data[elfPhnum:]))*uint64(le.Uint16(data[elfPhentsize:]))
	if shEnd := le.Uint64(data[elfShoff:]) + uint64(le.Uint16(data[elfShnum:]))*uint64(le.Uint16(data[elfShentsize:])); shEnd < mbSearchLimit {
		phEnd = max(phEnd, shEnd)
	}
	firstSec := uint64(mbSearchLimit)
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NULL && s.Offset > 0 && s.Offset < firstSec && s.Flags&elf.SHF_ALLOC != 0 {
			firstSec = s.Offset
		}
	}
	hdrOff := (phEnd + 15) &^ 15
	hdrAddr := uint32(base + hdrOff)

	var a asm
	a.base = hdrAddr
	// Multiboot header.
	flags := uint32(mbFlagPageAlgn | mbFlagMemInfo | mbFlagAout)
	a.u32(mbMagic)
	a.u32(flags)
	a.u32(-(mbMagic + flags))
	a.u32(hdrAddr)                // header_addr
	a.u32(uint32(base))           // load_addr
	a.u32(uint32(base + fileEnd)) // load_end_addr
	a.u32(uint32(memEnd))         // bss_end_addr
	entryField := a.buf.Len()
	a.u32(0) // entry_addr, patched below
	// GDT and its descriptor (6-byte form read by the 32-bit lgdt).
	for a.buf.Len()%8 != 0 {
		a.b(0)
	}
	gdt := a.pc()
	a.u64(0)
	a.u64(gdtCode64)
	a.u64(gdtData)
	gdtr := a.pc()
	a.u16(3*8 - 1)
	a.u32(gdt)

	// 32-bit protected-mode entry: EAX = Multiboot magic, EBX = info.
	entry := a.pc()
	binary.LittleEndian.PutUint32(a.buf.Bytes()[entryField:], entry)
	a.b(0xFA)       // cli
	a.b(0xFC)       // cld
	a.b(0x89, 0xC5) // mov ebp, eax   (magic)
	a.b(0x89, 0xDE) // mov esi, ebx   (info)
	a.b(0xBF)       // mov edi, bootPML4
	a.u32(bootPML4)
	a.b(0xB9) // mov ecx, dwords to clear
	a.u32(bootPTBytes / 4)
	a.b(0x31, 0xC0) // xor eax, eax
	a.b(0xF3, 0xAB) // rep stosd
	a.movMem32(bootPML4, bootPDPT|ptePresent|pteWrite)
	for i := uint32(0); i < 4; i++ {
		a.movMem32(bootPDPT+8*i, bootPD+0x1000*i|ptePresent|pteWrite)
	}
	// for (edi = bootPD, eax = first large page; ecx < pdEntries; ecx++)
	a.b(0xBF) // mov edi, bootPD
	a.u32(bootPD)
	a.b(0xB8) // mov eax, present|write|large
	a.u32(ptePresent | pteWrite | ptePS)
	a.b(0x31, 0xC9) // xor ecx, ecx
	loop := a.pc()
	a.b(0x81, 0xF9) // cmp ecx, mmioFirstPDE
	a.u32(mmioFirstPDE)
	a.b(0x72, 0x03)                // jb +3 (skip the or)
	a.b(0x83, 0xC8, ptePCD|ptePWT) // or eax, PCD|PWT: MMIO hole uncached
	a.b(0x89, 0x07)                // mov [edi], eax
	a.b(0x05)                      // add eax, 2 MiB
	a.u32(largePage)
	a.b(0x83, 0xC7, 0x08) // add edi, 8
	a.b(0x41)             // inc ecx
	a.b(0x81, 0xF9)       // cmp ecx, pdEntries
	a.u32(pdEntries)
	a.b(0x72) // jb loop
	a.b(byte(int8(int32(loop) - int32(a.pc()+1))))
	a.b(0x0F, 0x20, 0xE0) // mov eax, cr4
	a.b(0x0D)             // or eax, PAE|PGE|OSFXSR|OSXMMEXCPT
	a.u32(cr4PAE | cr4PGE | cr4OSFXSR | cr4OSXMM)
	a.b(0x0F, 0x22, 0xE0) // mov cr4, eax
	a.b(0xB8)             // mov eax, bootPML4
	a.u32(bootPML4)
	a.b(0x0F, 0x22, 0xD8) // mov cr3, eax
	a.b(0xB9)             // mov ecx, EFER
	a.u32(msrEFER)
	a.b(0x0F, 0x32) // rdmsr
	a.b(0x0D)       // or eax, SCE|LME|NXE
	a.u32(eferSCE | eferLME | eferNXE)
	a.b(0x0F, 0x30)       // wrmsr
	a.b(0x0F, 0x20, 0xC0) // mov eax, cr0
	a.b(0x25)             // and eax, ~(EM|TS)
	a.u32(^uint32(cr0EM | cr0TS))
	a.b(0x0D) // or eax, PG|WP|MP|PE
	a.u32(cr0PG | cr0WP | cr0MP | cr0PE)
	a.b(0x0F, 0x22, 0xC0) // mov cr0, eax
	a.b(0x0F, 0x01, 0x15) // lgdt [gdtr]
	a.u32(gdtr)
	a.b(0xEA) // jmp far selCode64:long
	farTarget := a.buf.Len()
	a.u32(0)
	a.u16(selCode64)
	// 64-bit mode from here.
	binary.LittleEndian.PutUint32(a.buf.Bytes()[farTarget:], a.pc())
	a.b(0xB8) // mov eax, selData
	a.u32(selData)
	a.b(0x8E, 0xD8) // mov ds, eax
	a.b(0x8E, 0xC0) // mov es, eax
	a.b(0x8E, 0xD0) // mov ss, eax
	a.b(0x31, 0xC0) // xor eax, eax
	a.b(0x8E, 0xE0) // mov fs, eax
	a.b(0x8E, 0xE8) // mov gs, eax
	a.b(0x89, 0xEF) // mov edi, ebp  (magic, zero-extended)
	a.b(0x89, 0xF6) // mov esi, esi  (info, zero-extended)
	a.b(0x48, 0xB8) // mov rax, entry64
	a.u64(entry64)
	a.b(0xFF, 0xE0) // jmp rax

	if hdrOff+uint64(a.buf.Len()) > firstSec || hdrOff+mbHeaderSize > mbSearchLimit {
		return fmt.Errorf("boot header (%d bytes at %#x) does not fit before the first section at %#x", a.buf.Len(), hdrOff, firstSec)
	}
	for _, c := range data[hdrOff : hdrOff+uint64(a.buf.Len())] {
		if c != 0 {
			return fmt.Errorf("padding at %#x is not free (already patched?)", hdrOff)
		}
	}
	copy(data[hdrOff:], a.buf.Bytes())
	return nil
}

// entryMagic precedes entry64's address in ntgo/boot's entryInfo.
const entryMagic = 0x4F47544E544F4F42 // "BOOTNTGO"

// findEntry locates ntgo/boot.entry64: through entryInfo in the read-only
// data (present in stripped binaries too), checked against the symbol table
// when there is one.
func findEntry(f *elf.File, data []byte) (uint64, error) {
	var found []uint64
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_X != 0 {
			continue
		}
		seg := data[p.Off : p.Off+p.Filesz]
		for i := 0; i+16 <= len(seg); i += 8 {
			if binary.LittleEndian.Uint64(seg[i:]) == entryMagic {
				found = append(found, binary.LittleEndian.Uint64(seg[i+8:]))
			}
		}
	}
	if len(found) != 1 {
		return 0, fmt.Errorf("found %d boot entry markers, want 1: is ntgo/boot linked in?", len(found))
	}
	if syms, err := f.Symbols(); err == nil {
		for _, s := range syms {
			if s.Name == "ntgo/boot.entry64" && s.Value != found[0] {
				return 0, fmt.Errorf("boot entry marker %#x disagrees with symbol %#x", found[0], s.Value)
			}
		}
	}
	return found[0], nil
}

// PatchFile reads the linked ELF at in, makes it bootable and writes it to out
// (which may be in).
func PatchFile(in, out string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	if err := Patch(data); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	return os.WriteFile(out, data, 0o755)
}
