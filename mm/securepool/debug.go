// Debugger views of the secure pools: !pool and !poolfind on secure
// blocks, poolmon's secure rows, !securepool, and the crash dump's image.
//
// The live System and a dump's Image answer the same questions with the
// same walk (walkPage) over a page's bytes, so both report a damaged
// header the same way instead of stopping on it. Live views copy the
// pages under the System's lock and format after it.

package securepool

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"ntgo/mm/pool"
)

// Block is one decoded secure-pool block.
type Block struct {
	Header   uintptr // where the header is
	Addr     uintptr // the body, what the caller holds
	Bytes    uintptr // the block's extent, header included (whole pages for a big one)
	Size     uint32  // the size the caller asked for
	Pool     Handle
	Tag      pool.Tag
	Cookie   uint64
	Flags    uint32 // SECURE_POOL_FLAGS
	Free     bool
	Big      bool
	Contains bool   // holds the address inspected
	Damage   string // why the header fails its check; "" if sound
}

func (b Block) flagNames() string {
	var parts []string
	if b.Flags&Freeable != 0 {
		parts = append(parts, "FREEABLE")
	}
	if b.Flags&Modifiable != 0 {
		parts = append(parts, "MODIFIABLE")
	}
	if len(parts) == 0 {
		return "NONE"
	}
	return strings.Join(parts, "|")
}

func (b Block) state() string {
	if b.Free {
		return "Free"
	}
	return "Allocated"
}

// PoolInfo is one secure pool, fixed-size so that a dump stores it as is.
type PoolInfo struct {
	Handle uint64
	Tag    pool.Tag
	Pages  uint32
}

// PageInfo is one run of a secure pool's pages.
type PageInfo struct {
	VA     uint64
	Handle uint64
	Pages  uint32
	Big    uint32 // 1 for a big run
}

// Image is the secure pools as a crash dump holds them.
type Image struct {
	Key   uint64
	Base  uint64 // the region
	Size  uint64
	Pools []PoolInfo
	Runs  []PageInfo
	Tags  []TagInfo
	// Pages are the first pages of the runs (where the headers are), by
	// address.
	Pages map[uintptr]*[pageSize]byte
}

// TagInfo is one tag's secure-pool counters.
type TagInfo struct {
	Tag    pool.Tag
	Counts pool.TagCounts
}

// Capture is the System's Image. It takes the System's lock: the kernel
// captures only when the lock is free (TryCapture).
func (s *System) capture() *Image {
	base, size := s.pages.Region()
	im := &Image{Key: s.key, Base: uint64(base), Size: uint64(size), Pages: map[uintptr]*[pageSize]byte{}}
	for _, h := range s.sortedHandles() {
		p := s.pools[h]
		im.Pools = append(im.Pools, PoolInfo{Handle: uint64(h), Tag: p.tag, Pages: uint32(s.poolPages(p))})
	}
	for va, o := range s.owners {
		big := uint32(0)
		if o.big {
			big = 1
		}
		im.Runs = append(im.Runs, PageInfo{VA: uint64(va), Handle: uint64(o.pool.handle), Pages: uint32(o.pages), Big: big})
		pg := new([pageSize]byte)
		s.read(va, pg[:])
		im.Pages[va] = pg
	}
	slices.SortFunc(im.Runs, func(a, b PageInfo) int { return int(a.VA>>12) - int(b.VA>>12) })
	im.Tags = s.tagInfo()
	return im
}

// TryCapture is the Image, or nil if another thread holds the lock (the
// stop may have come from inside a secure-pool routine).
func (s *System) TryCapture() *Image {
	if !s.mu.TryLock() {
		return nil
	}
	defer s.mu.Unlock()
	return s.capture()
}

// Capture is the Image, waiting for the lock (tests, the console).
func (s *System) Capture() *Image {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.capture()
}

func (s *System) sortedHandles() []Handle {
	hs := make([]Handle, 0, len(s.pools))
	for h := range s.pools {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	return hs
}

func (s *System) poolPages(p *securePool) int {
	n := len(p.small)
	for _, b := range p.big {
		n += s.owners[b].pages
	}
	return n
}

func (s *System) tagInfo() []TagInfo {
	var out []TagInfo
	for t, c := range s.tags {
		out = append(out, TagInfo{Tag: t, Counts: *c})
	}
	slices.SortFunc(out, func(a, b TagInfo) int { return int(b.Counts.Bytes - a.Counts.Bytes) })
	return out
}

// Tags is every tag's secure-pool counters, most bytes first.
func (s *System) Tags() []TagInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tagInfo()
}

// Holds reports whether va is in the secure-pool region.
func (im *Image) Holds(va uintptr) bool {
	return uint64(va) >= im.Base && uint64(va)-im.Base < im.Size
}

// run is the run holding va.
func (im *Image) run(va uintptr) (PageInfo, bool) {
	for _, r := range im.Runs {
		if uint64(va) >= r.VA && uint64(va) < r.VA+uint64(r.Pages)*pageSize {
			return r, true
		}
	}
	return PageInfo{}, false
}

// Inspect is !pool addr on a secure page: the blocks of the run holding
// addr; ok is false if none does.
func (im *Image) Inspect(addr uintptr) (Report, bool) {
	r, ok := im.run(addr)
	if !ok {
		return Report{}, false
	}
	rep := Report{Page: uintptr(r.VA), Pool: Handle(r.Handle)}
	im.walk(r, func(b Block) {
		b.Contains = addr >= b.Header && addr < b.Header+b.Bytes
		rep.Blocks = append(rep.Blocks, b)
	})
	return rep, true
}

// walk calls f with every block of run r.
func (im *Image) walk(r PageInfo, f func(Block)) {
	mem := im.Pages[uintptr(r.VA)]
	if mem == nil {
		return
	}
	walkPage(im.Key, uintptr(r.VA), mem, r.Big != 0, f)
}

// Find is !poolfind tag over the secure pools: every allocated block.
func (im *Image) Find(tag pool.Tag) []Block {
	var out []Block
	for _, r := range im.Runs {
		im.walk(r, func(b Block) {
			if b.Tag == tag && !b.Free {
				out = append(out, b)
			}
		})
	}
	return out
}

// walkPage decodes the blocks of the run at page (its first page's bytes
// in mem), stopping at a header whose size cannot be followed.
func walkPage(key uint64, page uintptr, mem *[pageSize]byte, big bool, f func(Block)) {
	for off := uintptr(0); off < pageSize; {
		b := page + off
		h, sound, got, want := decode(key, b, mem[off:off+headerSize])
		bl := Block{Header: b, Addr: b + headerSize, Size: h.bytes, Pool: h.handle, Tag: h.tag, Cookie: h.cookie,
			Flags: uint32(h.state) & ValidFlags, Free: h.state&stateAllocated == 0, Big: h.state&stateBig != 0,
			Bytes: uintptr(h.units) * unitBytes}
		if bl.Big {
			bl.Bytes = uintptr(h.units) * pageSize
		}
		if !sound {
			bl.Damage = fmt.Sprintf("check %#x, should be %#x", got, want)
		}
		f(bl)
		if h.units == 0 || big || bl.Big {
			return
		}
		off += bl.Bytes
	}
}

// Report is !pool on a secure page.
type Report struct {
	Page   uintptr
	Pool   Handle
	Blocks []Block
}

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Pool page %#x region is Secure pool, handle %#x\n", r.Page, uintptr(r.Pool))
	for _, bl := range r.Blocks {
		mark := " "
		if bl.Contains {
			mark = "*"
		}
		fmt.Fprintf(&b, "%s%#x size: %#5x  (%s) %v  secure: handle %#x flags %s cookie %#x", mark, bl.Header,
			bl.Bytes, bl.state(), bl.Tag, uintptr(bl.Pool), bl.flagNames(), bl.Cookie)
		if bl.Damage != "" {
			fmt.Fprintf(&b, "  DAMAGED: %s", bl.Damage)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// WriteFound prints !poolfind's secure lines.
func WriteFound(w io.Writer, blocks []Block) {
	for _, b := range blocks {
		fmt.Fprintf(w, "%016x  size %6d  %v  %s  secure: handle %#x flags %s\n", b.Addr, b.Size, b.Tag, b.state(),
			uintptr(b.Pool), b.flagNames())
	}
}

// WriteTags prints poolmon's rows for the secure pools, in its columns.
func WriteTags(w io.Writer, tags []TagInfo) {
	for _, t := range tags {
		c := t.Counts
		fmt.Fprintf(w, "%-4v %-18s %10d %10d %10d %12d\n", t.Tag, "Secure", c.Allocs, c.Frees, int64(c.Allocs-c.Frees), c.Bytes)
	}
}

// Write is !securepool: every pool with its blocks.
func (im *Image) Write(w io.Writer) {
	fmt.Fprintf(w, "Secure pools: %d (region %#x, %d pages in use)\n", len(im.Pools), im.Base, im.pagesInUse())
	for _, p := range im.Pools {
		fmt.Fprintf(w, "Pool handle %#x tag %v: %d pages\n", p.Handle, p.Tag, p.Pages)
		for _, r := range im.Runs {
			if r.Handle != p.Handle {
				continue
			}
			im.walk(r, func(b Block) {
				if b.Free {
					return
				}
				fmt.Fprintf(w, "  %016x  size %6d  %v  flags %s  cookie %#x", b.Addr, b.Size, b.Tag, b.flagNames(), b.Cookie)
				if b.Damage != "" {
					fmt.Fprintf(w, "  DAMAGED: %s", b.Damage)
				}
				fmt.Fprintln(w)
			})
		}
	}
}

func (im *Image) pagesInUse() int {
	n := 0
	for _, r := range im.Runs {
		n += int(r.Pages)
	}
	return n
}
