package pool

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

// PageReport is !pool: the blocks of the page holding an address.
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
		fmt.Fprintf(&b, "%s%#x size: %#5x previous size: %#4x  (%v) %v", mark, bl.Addr, bl.Bytes,
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
	var found *bigEntry
	s.big.each(func(e bigEntry) {
		if addr >= e.va && addr-e.va < e.pages<<pageShift {
			found = &e
		}
	})
	if found != nil {
		return PageReport{Page: addr &^ pageMask, Kind: found.kind, Blocks: []BlockInfo{found.info(addr)}}, true
	}
	page := addr &^ pageMask
	for k := range s.desc {
		d := &s.desc[k]
		d.mu.Lock()
		if _, held := d.pages[page]; held {
			r = PageReport{Page: page, Kind: d.kind}
			d.walkPage(page, func(bl BlockInfo) {
				bl.Contains = addr >= bl.Header && addr < bl.Header+bl.Bytes
				r.Blocks = append(r.Blocks, bl)
			})
			ok = true
		}
		d.mu.Unlock()
		if ok {
			return r, true
		}
	}
	return PageReport{}, false
}

func (e bigEntry) info(addr uintptr) BlockInfo {
	return BlockInfo{Addr: e.va, Bytes: e.pages << pageShift, Tag: e.tag, State: StateBig,
		Quota: e.owner != 0, Contains: addr >= e.va && addr-e.va < e.pages<<pageShift}
}

// Find is !poolfind tag: every live allocation with tag, by address.
func (s *System) Find(tag Tag) []BlockInfo {
	var out []BlockInfo
	s.eachBlock(func(_ Kind, bl BlockInfo) {
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
		if bk != k {
			return
		}
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
	})
	d := &s.desc[k]
	d.mu.Lock()
	u.Pages = int64(len(d.pages))
	d.mu.Unlock()
	return u
}

// eachBlock visits every block of every pool page.
func (s *System) eachBlock(f func(Kind, BlockInfo)) {
	s.big.each(func(e bigEntry) { f(e.kind, e.info(0)) })
	for k := range s.desc {
		d := &s.desc[k]
		d.mu.Lock()
		for page := range d.pages {
			d.walkPage(page, func(bl BlockInfo) { f(d.kind, bl) })
		}
		d.mu.Unlock()
	}
}

// walkPage decodes the headers of a small-block page in order. The lock is
// held.
func (d *descriptor) walkPage(page uintptr, f func(BlockInfo)) {
	prev := uint8(0)
	for b := page; b < page+pageSize; {
		h := readHeader(b)
		bl := BlockInfo{Header: b, Addr: b + HeaderSize, Bytes: uintptr(h.size) << BlockShift,
			PreviousSize: h.prev, PoolIndex: h.index, BlockSize: h.size, PoolType: h.typ,
			Tag: h.tag, Quota: h.typ&typeQuota != 0}
		bl.State = [...]BlockState{StateFree, StateAllocated, StateCached, StateInvalid}[h.state()]
		chained := true
		switch owner := d.sys.cookie.open(b, h.check); {
		case h.size == 0:
			bl.Damage, chained = "BlockSize is 0", false
		case b+bl.Bytes > page+pageSize:
			bl.Damage, chained = "BlockSize runs past the page", false
		case h.prev != prev:
			bl.Damage = fmt.Sprintf("PreviousSize %#x, but the previous block is %#x units", h.prev, prev)
		case h.index != uint8(d.kind):
			bl.Damage = fmt.Sprintf("PoolIndex %d in a %v page", h.index, d.kind)
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
		b += bl.Bytes
	}
}
