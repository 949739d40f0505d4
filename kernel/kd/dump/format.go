// Package dump is ntgo's crash dump: what the kernel writes on a bugcheck
// (with crashdump=com2 on its command line) to its second serial port
// (COM2, 0x2F8, which the launcher's -dump flag connects to a file), and
// the reader the host viewer (cmd/ntgo-dump) rebuilds the debugger's views
// from, with the memory manager's own decoding code.
//
// Format (little-endian):
//
//	header   magic "NTGODUMP", version uint32
//	section  type uint32, length uint64, CRC-32 (IEEE) of the payload uint32, payload
//	...      one section per kind of data, in any order
//	end      a section of type sectionEnd with no payload
//
// The framing lets a reader find damage (a short write, a noisy line) per
// section, skip section types it does not know, and use the sections that
// arrived whole. Payloads are described where they are written (write.go).
package dump

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"

	"ntgo/mm/physmem"
)

// The kernel command-line word that enables dumps, crashdump=com2, which
// the launcher adds along with the serial port COM2 writes to.
const (
	KernelVar  = "crashdump"
	KernelCOM2 = "com2"
)

// magic opens every dump.
const magic = "NTGODUMP"

// version changes when a payload's layout does, or a section is added.
const version = 5

// Section is a section type.
type Section uint32

const (
	sectionEnd          Section = iota
	SectionRecord               // the bugcheck record
	SectionContext              // registers and stack of the stopped thread
	SectionPFN                  // the PFN database (pfn.AppendDump)
	SectionPageTables           // every page-table frame reachable from CR3
	SectionPoolTags             // the pool's tag counters (poolmon)
	SectionVM                   // the !vm counters the PFN database and pools do not hold
	SectionPool                 // the pool's bookkeeping (pool.ImageInfo, big allocations)
	SectionMemory               // raw pages with their addresses (the pool's pages)
	SectionReservations         // the Go runtime's reservations in the lower half (!address)
	SectionModules              // the loaded-module list (lm, !analyze)
	SectionThreads              // the kernel's thread table (!thread)
	SectionCode                 // kernel code pages (the caller of KeBugCheckEx), to match the ELF
	SectionSecurePool           // the secure pools, their blocks and header pages
	SectionProcessors           // every processor's registers at the stop (~)
)

// Sizes of the encoding's integers, and the section header they make.
const (
	u32Bytes           = 4
	u64Bytes           = 8
	versionBytes       = u32Bytes
	sectionHeaderBytes = u32Bytes + u64Bytes + u32Bytes // type, length, CRC

	sectionTypeOffset   = 0
	sectionLengthOffset = sectionTypeOffset + u32Bytes
	sectionCRCOffset    = sectionLengthOffset + u64Bytes
)

// pageRecordBytes is a page record: its frame number or address and its
// contents (the PageTables and Memory sections).
const pageRecordBytes = u64Bytes + physmem.PageSize

// pageKey is what page records are keyed by.
type pageKey interface{ ~uint64 | ~uintptr }

// readPageRecords decodes b, a whole number of page records, by key.
func readPageRecords[K pageKey](b []byte) (map[K]*[physmem.PageSize]byte, error) {
	if len(b)%pageRecordBytes != 0 {
		return nil, fmt.Errorf("dump: %d bytes of page records", len(b))
	}
	pages := make(map[K]*[physmem.PageSize]byte, len(b)/pageRecordBytes)
	for off := 0; off < len(b); off += pageRecordBytes {
		page := new([physmem.PageSize]byte)
		copy(page[:], b[off+u64Bytes:])
		pages[K(binary.LittleEndian.Uint64(b[off:]))] = page
	}
	return pages, nil
}

// maxSectionBytes bounds a section a reader accepts, so that a damaged
// length does not make it allocate without limit.
const maxSectionBytes = 1 << 32

// writeHeader writes the dump header.
func writeHeader(w io.Writer) error {
	b := binary.LittleEndian.AppendUint32([]byte(magic), version)
	_, err := w.Write(b)
	return err
}

// writeSection frames payload as a section of type s.
func writeSection(w io.Writer, s Section, payload []byte) error {
	var h [sectionHeaderBytes]byte
	binary.LittleEndian.PutUint32(h[sectionTypeOffset:], uint32(s))
	binary.LittleEndian.PutUint64(h[sectionLengthOffset:], uint64(len(payload)))
	binary.LittleEndian.PutUint32(h[sectionCRCOffset:], crc32.ChecksumIEEE(payload))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// Errors a reader returns.
var (
	ErrEmpty = errors.New("dump: the file is empty: the kernel wrote no dump " +
		"(a stop in trap context, an interrupt or system-call handler's, writes none; " +
		"nor does a boot without crashdump=com2, or one that did not stop)")
	ErrNotDump   = errors.New("dump: not an ntgo crash dump")
	ErrTruncated = errors.New("dump: truncated (the kernel stopped writing, or the file was cut)")
	ErrVersion   = errors.New("dump: unknown version")
	ErrDamaged   = errors.New("dump: section damaged (CRC mismatch)")
	ErrTooLarge  = errors.New("dump: section length beyond any dump")
)

// readSections reads the header and every section up to the end marker,
// returning the payloads by type. On an error wrapping ErrTruncated, the
// sections that arrived whole are returned too.
func readSections(r io.Reader) (map[Section][]byte, error) {
	var h [len(magic) + versionBytes]byte
	n, err := io.ReadFull(r, h[:])
	switch {
	case n == 0:
		return nil, ErrEmpty
	case !strings.HasPrefix(magic, string(h[:min(n, len(magic))])):
		return nil, ErrNotDump
	case err != nil:
		return nil, fmt.Errorf("%w inside its %d-byte header, after %d bytes", ErrTruncated, len(h), n)
	}
	if v := binary.LittleEndian.Uint32(h[len(magic):]); v != version {
		return nil, fmt.Errorf("%w %d", ErrVersion, v)
	}
	out := map[Section][]byte{}
	for {
		var sh [sectionHeaderBytes]byte
		if _, err := io.ReadFull(r, sh[:]); err != nil {
			return out, fmt.Errorf("%w before the end marker", ErrTruncated)
		}
		s := Section(binary.LittleEndian.Uint32(sh[sectionTypeOffset:]))
		n := binary.LittleEndian.Uint64(sh[sectionLengthOffset:])
		if n > maxSectionBytes {
			return out, ErrTooLarge
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return out, fmt.Errorf("%w inside section %d", ErrTruncated, s)
		}
		if crc32.ChecksumIEEE(payload) != binary.LittleEndian.Uint32(sh[sectionCRCOffset:]) {
			return out, fmt.Errorf("%w: section %d", ErrDamaged, s)
		}
		if s == sectionEnd {
			return out, nil
		}
		out[s] = payload
	}
}
