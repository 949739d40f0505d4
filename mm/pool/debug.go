// Debugger views: !pool, !poolfind and usage walks.
//
// These read the pool the way the kernel debugger's extensions do, by
// walking the headers of a page from its start. They must describe a
// damaged pool, not stop on it: a header that fails a check is reported
// with the reason (Damage) instead of raising a bugcheck. The walk goes on
// past a header whose sizes still chain (a bad cookie or PoolIndex) and
// stops at one whose sizes do not, since the next header cannot be found.
//
// Small-block pages are found through each descriptor's page registry and
// walked under that descriptor's lock; big allocations come from the
// big-page table.

package pool

import (
	"fmt"
	"slices"
	"strings"
)

// BlockState is how a block is held.
type BlockState uint8

const (
	StateFree      BlockState = iota // on ListHeads, or an unlisted one-unit fragment
	StateAllocated                   // owned by a caller
	StateCached                      // freed into a lookaside list or PendingFrees
	StateBig                         // a big allocation (no header)
	StateInvalid                     // PoolType byte has both state bits
)

var stateNames = [...]string{"Free", "Allocated", "Cached", "Big", "Invalid"}

func (st BlockState) String() string { return stateNames[st] }

// BlockInfo is one decoded block.
type BlockInfo struct {
	Header                                       uintptr // 0 for a big allocation
	Addr                                         uintptr // what the caller holds
	Bytes                                        uintptr // block size with header, or whole pages
	PreviousSize, PoolIndex, BlockSize, PoolType uint8   // raw header fields
	Tag                                          Tag
	State                                        BlockState
	Quota                                        bool
	Contains                                     bool   // holds the address inspected
	Damage                                       string // why the header fails its checks; "" if sound
}

// Listed is the address !pool lists for bl, as NT's !pool does: the pool
// header's (what BAD_POOL_HEADER's parameters name), or for a big
// allocation, which has none, its first byte.
func (bl BlockInfo) Listed() uintptr {
	if bl.Header != 0 {
		return bl.Header
	}
	return bl.Addr
}

// PageReport is !pool: the blocks of the page holding an address, listed by
// header address.
type PageReport struct {
	Page   uintptr
	Kind   Kind
	Blocks []BlockInfo
}

func (r PageReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Pool page %#x region is %v pool\n", r.Page, r.Kind)
	for _, bl := range r.Blocks {
		mark := " "
		if bl.Contains {
			mark = "*"
		}
		fmt.Fprintf(&b, "%s%#x size: %#5x previous size: %#4x  (%v) %v", mark, bl.Listed(), bl.Bytes,
			uintptr(bl.PreviousSize)<<BlockShift, bl.State, bl.Tag)
		if bl.Quota {
			b.WriteString(" (Quota)")
		}
		if bl.Damage != "" {
			fmt.Fprintf(&b, "  DAMAGED: %s", bl.Damage)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Inspect is !pool addr: the blocks of the page holding addr, with the
// block containing addr marked. ok is false if addr is in no pool page.
func (s *System) Inspect(addr uintptr) (r PageReport, ok bool) {
	s.big.each(func(e bigEntry) {
		if a := e.allocation(); a.holds(addr) {
			r, ok = a.report(addr), true
		}
	})
	if ok {
		return r, true
	}
	page := addr &^ pageMask
	for k := range s.desc {
		d := &s.desc[k]
		d.mu.Lock()
		if _, held := d.pages[page]; held {
			r, ok = inspectPage(page, pageAt(page), d.kind, s.cookie, addr), true
		}
		d.mu.Unlock()
		if ok {
			return r, true
		}
	}
	return PageReport{}, false
}

// inspectPage is !pool addr for the small-block page at page of
// descriptor k, whose contents are mem.
func inspectPage(page uintptr, mem *[pageSize]byte, k Kind, c cookie, addr uintptr) PageReport {
	r := PageReport{Page: page, Kind: k}
	walkBlocks(page, mem, k, c, func(bl BlockInfo) {
		bl.Contains = addr >= bl.Header && addr < bl.Header+bl.Bytes
		r.Blocks = append(r.Blocks, bl)
	})
	return r
}

// BigAllocation is a live big allocation as the debugger shows it.
type BigAllocation struct {
	VA, Pages uint64
	Tag       Tag
	Kind      Kind
	Quota     bool // a quota owner was charged
}

func (e bigEntry) allocation() BigAllocation {
	return BigAllocation{VA: uint64(e.va), Pages: uint64(e.pages), Tag: e.tag, Kind: e.kind, Quota: e.owner != 0}
}

func (a BigAllocation) holds(addr uintptr) bool {
	return uint64(addr) >= a.VA && uint64(addr)-a.VA < a.Pages<<pageShift
}

func (a BigAllocation) info(addr uintptr) BlockInfo {
	return BlockInfo{Addr: uintptr(a.VA), Bytes: uintptr(a.Pages) << pageShift, Tag: a.Tag, State: StateBig,
		Quota: a.Quota, Contains: a.holds(addr)}
}

// report is !pool addr for an address inside a.
func (a BigAllocation) report(addr uintptr) PageReport {
	return PageReport{Page: addr &^ pageMask, Kind: a.Kind, Blocks: []BlockInfo{a.info(addr)}}
}

// Find is !poolfind tag: every live allocation with tag, by address.
func (s *System) Find(tag Tag) []BlockInfo { return findTag(tag, s.eachBlock) }

// findTag is Find over the blocks each visits (the live pool's or an
// image's).
func findTag(tag Tag, each func(func(Kind, BlockInfo))) []BlockInfo {
	var out []BlockInfo
	each(func(_ Kind, bl BlockInfo) {
		if bl.Tag == tag && (bl.State == StateAllocated || bl.State == StateBig) {
			out = append(out, bl)
		}
	})
	slices.SortFunc(out, func(a, b BlockInfo) int {
		if a.Addr < b.Addr {
			return -1
		}
		return 1
	})
	return out
}

// Usage is where a pool's pages go.
type Usage struct {
	Pages, BigPages int64   // small-block pages held, pages in big allocations
	Allocated       uintptr // bytes in allocated blocks and big runs, headers included
	Cached          uintptr // bytes in blocks parked on lookaside lists or PendingFrees
	Free            uintptr // bytes in free blocks of small-block pages
}

// Usage walks every page of pool k.
func (s *System) Usage(k Kind) Usage {
	var u Usage
	s.eachBlock(func(bk Kind, bl BlockInfo) {
		if bk == k {
			u.add(bl)
		}
	})
	d := &s.desc[k]
	d.mu.Lock()
	u.Pages = int64(len(d.pages))
	d.mu.Unlock()
	return u
}

// add counts bl's bytes where its state says they go.
func (u *Usage) add(bl BlockInfo) {
	switch bl.State {
	case StateBig:
		u.BigPages += int64(bl.Bytes >> pageShift)
		u.Allocated += bl.Bytes
	case StateAllocated:
		u.Allocated += bl.Bytes
	case StateCached:
		u.Cached += bl.Bytes
	case StateFree:
		u.Free += bl.Bytes
	}
}

// eachBlock visits every block of every pool page.
func (s *System) eachBlock(f func(Kind, BlockInfo)) {
	s.big.each(func(e bigEntry) { f(e.kind, e.allocation().info(0)) })
	for k := range s.desc {
		d := &s.desc[k]
		d.mu.Lock()
		for page := range d.pages {
			d.walkPage(page, func(bl BlockInfo) { f(d.kind, bl) })
		}
		d.mu.Unlock()
	}
}

// walkPage decodes the headers of a small-block page of d in order. The
// lock is held.
func (d *descriptor) walkPage(page uintptr, f func(BlockInfo)) {
	walkBlocks(page, pageAt(page), d.kind, d.sys.cookie, f)
}

// walkBlocks decodes, in order, the headers of the small-block page at page
// of descriptor k, whose contents are mem: the page itself, or a crash
// dump's copy of it (Image).
func walkBlocks(page uintptr, mem *[pageSize]byte, k Kind, c cookie, f func(BlockInfo)) {
	prev := uint8(0)
	for off := uintptr(0); off < pageSize; {
		b := page + off
		h := decodeHeader((*[HeaderSize]byte)(mem[off:]))
		bl := BlockInfo{Header: b, Addr: b + HeaderSize, Bytes: uintptr(h.size) << BlockShift,
			PreviousSize: h.prev, PoolIndex: h.index, BlockSize: h.size, PoolType: h.typ,
			Tag: h.tag, Quota: h.typ&typeQuota != 0}
		bl.State = [...]BlockState{StateFree, StateAllocated, StateCached, StateInvalid}[h.state()]
		chained := true
		switch owner := c.open(b, h.check); {
		case h.size == 0:
			bl.Damage, chained = "BlockSize is 0", false
		case off+bl.Bytes > pageSize:
			bl.Damage, chained = "BlockSize runs past the page", false
		case h.prev != prev:
			bl.Damage = fmt.Sprintf("PreviousSize %#x, but the previous block is %#x units", h.prev, prev)
		case h.index != uint8(k):
			bl.Damage = fmt.Sprintf("PoolIndex %d in a %v page", h.index, k)
		case bl.State == StateInvalid:
			bl.Damage = "PoolType has both allocated and cached bits"
		case owner != 0 && !(bl.Quota && bl.State == StateAllocated):
			bl.Damage = "check field does not open with this boot's cookie"
		}
		f(bl)
		if !chained {
			return
		}
		prev = h.size
		off += bl.Bytes
	}
}
