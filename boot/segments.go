// The kernel image's segments, read from its own ELF program headers.
//
// The whole ELF file is loaded as one image (see boot/image), so its header
// and program headers are in memory at the image base, the page below the
// text. Each PT_LOAD segment becomes an mm.ImageSegment with the protection
// its flags ask for; the memory manager maps the image with them, so text
// is read-only and data is not executable.

package boot

import (
	"ntgo/mm"
	"ntgo/mm/pte"
)

// ELF64 header and program-header fields (System V gABI).
const (
	elfMagic       = 0x464C457F // "\x7FELF", little-endian
	elfPhoff       = 0x20       // e_phoff: program headers' file offset
	elfPhentsize   = 0x36       // e_phentsize
	elfPhnum       = 0x38       // e_phnum
	phType         = 0x00       // p_type
	phFlags        = 0x04       // p_flags
	phVaddr        = 0x10       // p_vaddr
	phMemsz        = 0x28       // p_memsz
	ptLoad         = 1          // PT_LOAD
	pfExecute      = 1 << 0     // PF_X
	pfWrite        = 1 << 1     // PF_W
	maxHeaderPages = 16         // how far below the text to look for the header
)

//go:nosplit
func u16(p uintptr) uint16 { return *(*uint16)(at(p)) }

// imageSegments fills info.Image from the ELF header found at or below text.
//
//go:nosplit
func imageSegments(text uintptr) {
	base := text &^ (pageSize - 1)
	for i := 0; u32(base) != elfMagic; i++ {
		if i == maxHeaderPages {
			for { // no ELF header: the image is not ours
			}
		}
		base -= pageSize
	}
	ph, size, n := base+uintptr(u64(base+elfPhoff)), uintptr(u16(base+elfPhentsize)), int(u16(base+elfPhnum))
	for i := 0; i < n && info.NImage < len(info.Image); i, ph = i+1, ph+size {
		if u32(ph+phType) != ptLoad {
			continue
		}
		start := uintptr(u64(ph + phVaddr))
		end := start + uintptr(u64(ph+phMemsz))
		flags := u32(ph + phFlags)
		prot := pte.ProtReadOnly
		switch {
		case flags&pfWrite != 0 && flags&pfExecute != 0:
			prot = pte.ProtExecuteReadWrite
		case flags&pfWrite != 0:
			prot = pte.ProtReadWrite
		case flags&pfExecute != 0:
			prot = pte.ProtExecuteRead
		}
		info.Image[info.NImage] = mm.ImageSegment{Start: start &^ (pageSize - 1), End: (end + pageSize - 1) &^ (pageSize - 1), Prot: prot}
		info.NImage++
	}
}
