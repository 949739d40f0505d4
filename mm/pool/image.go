// Pool images: the pool as a crash dump holds it.
//
// On a bugcheck the kernel captures its pools (Capture) into the dump, and
// the host viewer answers !pool, !poolfind and the pool lines of !vm from
// the capture (Image.Inspect, Image.Find, Image.Usage) with the header walk
// the live views use.
//
// Capture runs when the failing code may hold any descriptor lock, and
// another thread may have been stopped half way through a registry update,
// so it reads no descriptor's page registry (a Go map, which must not be
// read while it is written). It keeps what is readable without those locks:
//   - every page the page sources have handed out (Mapped is lock-free),
//     with its contents when the page is resident;
//   - each descriptor's ListHeads page, fixed at New;
//   - the big-page table if its lock is free: no bugcheck is raised under
//     it, so a held lock means another thread stopped inside it, and the
//     table is left out (Info.BigTable false; the pages of big runs then
//     look like small-block pages whose headers are damaged);
//   - the header cookie, without which no header can be checked.
//
// What a handed-out page is follows from the pool's invariant (every pool
// page is a ListHeads page, a page of a big run, or a small-block page of
// one descriptor): a page that is neither of the first two is walked as a
// small-block page: of the paged descriptor in paged pool; in nonpaged
// pool, which two descriptors share, of the one its first header names, as
// the debugger reads it (a damaged index shows as damage in the walk).

package pool

import (
	"slices"

	"ntgo/mm/physmem"
)

// Image is a pool captured for a crash dump.
type Image struct {
	Info ImageInfo
	// Big is the big-page table's live entries, if Info.BigTable.
	Big []BigAllocation
	// Pages are the contents of the handed-out pages that were resident,
	// by address.
	Pages map[uintptr]*[physmem.PageSize]byte
}

// ImageInfo is an Image but for its big allocations and page contents;
// fixed-size, so that a dump stores it as is.
type ImageInfo struct {
	Cookie          uint64
	NonPaged, Paged RegionInfo
	ListHeads       [NumKinds]uint64 // each descriptor's ListHeads page
	BigTable        bool             // the big-page table was captured
}

// RegionInfo is a page source's range and how many of its pages were
// handed out.
type RegionInfo struct {
	Base, Size, InUse uint64
}

// Capture is the pool's Image, reading page contents through read (the
// kernel's debugger memory, which refuses pages that are not present). It
// takes no descriptor lock and allocates.
func (s *System) Capture(read func(addr uintptr, b []byte) bool) *Image {
	im := &Image{Info: ImageInfo{Cookie: uint64(s.cookie)}, Pages: map[uintptr]*[physmem.PageSize]byte{}}
	im.Info.NonPaged = s.nonPaged.capture(read, im.Pages)
	im.Info.Paged = s.paged.capture(read, im.Pages)
	for k := range s.desc {
		im.Info.ListHeads[k] = uint64(s.desc[k].lists.heads)
	}
	im.Info.BigTable = s.big.tryEach(func(e bigEntry) { im.Big = append(im.Big, e.allocation()) })
	return im
}

// capture counts the handed-out pages of r and copies those read can read
// into pages.
func (r *region) capture(read func(addr uintptr, b []byte) bool, pages map[uintptr]*[physmem.PageSize]byte) RegionInfo {
	info := RegionInfo{Base: uint64(r.base), Size: uint64(r.size)}
	for off := uintptr(0); off < r.size; off += pageSize {
		va := r.base + off
		if !r.src.Mapped(va) {
			continue
		}
		info.InUse++
		if p := new([physmem.PageSize]byte); read(va, p[:]) {
			pages[va] = p
		}
	}
	return info
}

func (r RegionInfo) holds(va uintptr) bool {
	return uint64(va) >= r.Base && uint64(va)-r.Base < r.Size
}

// Inspect is !pool addr over the image.
func (im *Image) Inspect(addr uintptr) (PageReport, bool) {
	if a, ok := im.bigHolding(addr); ok {
		return a.report(addr), true
	}
	page := addr &^ pageMask
	mem, k, ok := im.smallPage(page)
	if !ok {
		return PageReport{}, false
	}
	return inspectPage(page, mem, k, cookie(im.Info.Cookie), addr), true
}

// Usage is System.Usage over the image.
func (im *Image) Usage(k Kind) Usage {
	var u Usage
	im.eachBlock(func(bk Kind, bl BlockInfo) {
		if bk == k {
			u.add(bl)
		}
	})
	for page := range im.Pages {
		if _, pk, ok := im.smallPage(page); ok && pk == k {
			u.Pages++
		}
	}
	return u
}

// Find is System.Find over the image.
func (im *Image) Find(tag Tag) []BlockInfo { return findTag(tag, im.eachBlock) }

// eachBlock visits every big allocation and every block of every
// small-block page the image holds.
func (im *Image) eachBlock(f func(Kind, BlockInfo)) {
	for _, a := range im.Big {
		f(a.Kind, a.info(0))
	}
	for page := range im.Pages {
		if mem, k, ok := im.smallPage(page); ok {
			walkBlocks(page, mem, k, cookie(im.Info.Cookie), func(bl BlockInfo) { f(k, bl) })
		}
	}
}

// bigHolding is the captured big allocation holding addr.
func (im *Image) bigHolding(addr uintptr) (BigAllocation, bool) {
	for _, a := range im.Big {
		if a.holds(addr) {
			return a, true
		}
	}
	return BigAllocation{}, false
}

// smallPage reports whether the page at page is a small-block page (see
// the file comment), with its contents and descriptor.
func (im *Image) smallPage(page uintptr) (*[physmem.PageSize]byte, Kind, bool) {
	mem, ok := im.Pages[page]
	if !ok || slices.Contains(im.Info.ListHeads[:], uint64(page)) {
		return nil, 0, false
	}
	if _, big := im.bigHolding(page); big {
		return nil, 0, false
	}
	switch {
	case im.Info.Paged.holds(page):
		return mem, KindPaged, true
	case im.Info.NonPaged.holds(page):
		if Kind(mem[offPoolIndex]) == KindNonPagedExecute {
			return mem, KindNonPagedExecute, true
		}
		return mem, KindNonPagedNx, true
	}
	return nil, 0, false
}
