// Package physmem names physical-memory quantities and abstracts access to
// the contents of physical frames.
//
// The memory manager's cores (PFN database, page tables) never dereference a
// physical address themselves: they go through a Memory. In the kernel the
// Memory maps a frame through hyperspace (or reaches a page table through the
// self-map); on the host, Sim is a block of simulated physical memory, so the
// same code runs under `go test` and `go test -fuzz`.
package physmem

import (
	"fmt"
	"syscall"
	"unsafe"
)

// Page geometry of x86-64 4 KiB pages.
const (
	PageShift = 12
	PageSize  = 1 << PageShift
	PageMask  = PageSize - 1
)

// PFN is a page frame number: a physical address shifted right by PageShift.
type PFN uint64

// Addr is the frame's physical address.
func (p PFN) Addr() uint64 { return uint64(p) << PageShift }

// FrameOf is the frame holding physical address pa.
func FrameOf(pa uint64) PFN { return PFN(pa >> PageShift) }

// Memory reaches the contents of physical frames.
type Memory interface {
	// ZeroFrame fills frame p with zeros.
	ZeroFrame(p PFN)
	// CopyFrame copies frame src to frame dst.
	CopyFrame(dst, src PFN)
	// Load64 and Store64 read and write the naturally aligned 8 bytes at pa.
	Load64(pa uint64) uint64
	Store64(pa uint64, v uint64)
}

// Sim is simulated physical memory for host tests: Frames frames starting
// at PFN 0, backed by an anonymous mapping outside the Go heap (as real
// physical memory is).
type Sim struct {
	mem    []byte
	Frames PFN
}

// NewSim returns n frames of zeroed simulated physical memory.
func NewSim(n PFN) *Sim {
	mem, err := syscall.Mmap(-1, 0, int(n)*PageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic(fmt.Sprintf("physmem: mmap %d frames: %v", n, err))
	}
	return &Sim{mem: mem, Frames: n}
}

// Close releases the simulated memory.
func (s *Sim) Close() { syscall.Munmap(s.mem) }

// Frame returns frame p's bytes.
func (s *Sim) Frame(p PFN) *[PageSize]byte {
	if p >= s.Frames {
		panic(fmt.Sprintf("physmem: frame %#x beyond simulated memory (%#x frames)", p, s.Frames))
	}
	return (*[PageSize]byte)(s.mem[uint64(p)*PageSize:])
}

func (s *Sim) ZeroFrame(p PFN)        { clear(s.Frame(p)[:]) }
func (s *Sim) CopyFrame(dst, src PFN) { *s.Frame(dst) = *s.Frame(src) }

func (s *Sim) word(pa uint64) *uint64 {
	if pa&7 != 0 {
		panic(fmt.Sprintf("physmem: unaligned 8-byte access at %#x", pa))
	}
	f := s.Frame(FrameOf(pa))
	return (*uint64)(unsafe.Pointer(&f[pa&PageMask]))
}

func (s *Sim) Load64(pa uint64) uint64     { return *s.word(pa) }
func (s *Sim) Store64(pa uint64, v uint64) { *s.word(pa) = v }
