// Special pool: each allocation on pages of its own, against an unmapped
// guard page.
//
// Layout. The region (layout.SpecialPoolStart, SpecialPoolSize) is a run
// of pages whose state the page-state table keeps (free, data, guard,
// freed: special_trap.go reads it in the page-fault path). An allocation
// of n bytes takes d = ceil(n/PageSize) data pages and one guard page:
//
//	overrun (verify end, the default)   [data ... data][guard]
//	  the block ends at the data's end, rounded down to 16 bytes (64 for a
//	  CacheAligned pool type) so that the pointer keeps the pool's
//	  alignment: at most 15 (63) slack bytes after it; the bytes before it
//	  are slack too
//	underrun (verify start)              [guard][data ... data]
//	  the block starts at the first data byte; the slack is after it
//
// Slack bytes are filled with slackPattern and checked on free: damage
// before the block is SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION 0x23, after
// it 0x24 (parameters: the block, the first damaged byte). Allocating or
// freeing special pool at an IRQL the pool forbids is 0x30 or 0x31 (the
// IRQL, the pool type, the size or address). A free of an
// address inside a block but not its start is 0x21 (the block's size, the
// bytes from the address to the data's end); of a freed or never
// allocated page 0x20. The body is zeroed for PoolZeroAllocation and
// otherwise left holding the pattern, as uninitialized pool would.
//
// Freeing unmaps the data pages at once (their frames go back) and keeps
// the run's addresses reserved, state freed, in a FIFO quarantine of
// quarantinePages pages, so a use after free faults (0xD5/0xCC) until the
// run is reused much later.
//
// Budget: at most budget data pages mapped at once; past it the caller
// falls back to normal pool (counted in Counters.SpecialFallbacks).
//
// Pages maps and unmaps: the kernel's (mm.SpecialPages) over the real page
// tables, a test's over the simulated MMU. Everything here runs under mu.

package verifier

import (
	"unsafe"

	"ntgo/mm/layout"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
)

// Pages backs special-pool pages.
type Pages interface {
	// Map gives the page at va a zeroed frame (paged: it may be a
	// demand-zero page); false if none can be had.
	Map(va uintptr, paged bool) bool
	// Unmap clears va's PTE, flushes it and frees its frame.
	Unmap(va uintptr)
	// Page is the bytes of the mapped page at va.
	Page(va uintptr) *[physmem.PageSize]byte
}

const (
	pageSize     = physmem.PageSize
	regionPages  = int(layout.SpecialPoolSize / pageSize)
	blockAlign   = pool.BlockUnit
	cacheLine    = 64   // a CacheAligned pool type's alignment
	slackPattern = 0x5A // as NT's special pool leaves the rest of a page
	// quarantinePages is how many pages of freed runs stay reserved.
	quarantinePages = regionPages / 4
)

// The 0xC1 subcodes (parameter 4), NT's values.
const (
	freeNotAllocated = 0x20
	freeBadAddress   = 0x21
	slackBefore      = 0x23
	slackAfter       = 0x24
	allocIrql        = 0x30
	freeIrql         = 0x31
)

// specialBlock is one live special-pool allocation.
type specialBlock struct {
	va       uintptr // the caller's pointer
	size     uintptr
	tag      pool.Tag
	typ      pool.PoolType
	run      int // first page of the run (guard included)
	data     int // first data page
	pages    int // data pages
	underrun bool
	driver   string
	caller   uintptr
}

type specialPool struct {
	pages      Pages
	budget     int
	mapped     int // data pages mapped
	cursor     int
	blocks     map[int]*specialBlock // by first data page
	owner      map[int]int           // data page -> first data page of its block
	freed      []freedRun            // quarantine, oldest first
	freedSize  int
	quarantine int // pages the quarantine keeps (quarantinePages)
}

type freedRun struct{ run, pages int }

func newSpecialPool(p Pages, budget int) *specialPool {
	return &specialPool{pages: p, budget: budget, blocks: map[int]*specialBlock{}, owner: map[int]int{},
		quarantine: quarantinePages}
}

// owns reports whether va lies in the special-pool region.
func (sp *specialPool) owns(va uintptr) bool {
	return sp != nil && va-layout.SpecialPoolStart < layout.SpecialPoolSize
}

func pageVA(i int) uintptr  { return layout.SpecialPoolStart + uintptr(i)*pageSize }
func pageOf(va uintptr) int { return int((va - layout.SpecialPoolStart) / pageSize) }

// find is the first run of n free pages from the cursor, then from 0.
func (sp *specialPool) find(n int) (int, bool) {
	for _, start := range [...]int{sp.cursor, 0} {
		run := 0
		for i := start; i < regionPages; i++ {
			if pageState[i] != pageFree {
				run = 0
				continue
			}
			if run++; run == n {
				return i - n + 1, true
			}
		}
	}
	return 0, false
}

// allocate places a block of n bytes, or returns 0 (budget, region or
// frames exhausted).
func (sp *specialPool) allocate(t pool.PoolType, n uintptr, tag pool.Tag, underrun bool, driver string, pc uintptr) uintptr {
	d := int((max(n, 1) + pageSize - 1) / pageSize)
	if sp == nil || n > layout.SpecialPoolSize/4 || sp.mapped+d > sp.budget {
		return 0
	}
	run, ok := sp.find(d + 1)
	for !ok && sp.releaseOldest() {
		run, ok = sp.find(d + 1)
	}
	if !ok {
		return 0
	}
	data, guard := run, run+d
	if underrun {
		data, guard = run+1, run
	}
	for i := range d {
		if !sp.pages.Map(pageVA(data+i), pool.KindOf(t).Paged()) {
			for j := range i {
				sp.pages.Unmap(pageVA(data + j))
			}
			return 0
		}
	}
	end := pageVA(data + d)
	va := pageVA(data)
	if !underrun {
		align := uintptr(blockAlign)
		if t&pool.CacheAlignedPoolTypeMask != 0 {
			align = cacheLine
		}
		va = (end - n) &^ (align - 1)
	}
	for i := range d {
		fill(sp.pages.Page(pageVA(data + i)))
		pageState[data+i] = pageData
		sp.owner[data+i] = data
	}
	pageState[guard] = pageGuard
	if t&pool.PoolZeroAllocation != 0 {
		sp.each(va, va+n, func(b *byte) { *b = 0 })
	}
	sp.mapped += d
	sp.cursor = run + d + 1
	sp.blocks[data] = &specialBlock{va: va, size: n, tag: tag, typ: t, run: run, data: data, pages: d,
		underrun: underrun, driver: driver, caller: pc}
	return va
}

// each calls f on every byte of [lo, hi), which lie in mapped data pages.
func (sp *specialPool) each(lo, hi uintptr, f func(*byte)) {
	for a := lo; a < hi; {
		p := sp.pages.Page(a &^ (pageSize - 1))
		end := min(hi, a&^(pageSize-1)+pageSize)
		for ; a < end; a++ {
			f(&p[a&(pageSize-1)])
		}
	}
}

// block is the live block whose pages hold va, or nil.
func (sp *specialPool) block(va uintptr) *specialBlock {
	first, ok := sp.owner[pageOf(va)]
	if !ok {
		return nil
	}
	return sp.blocks[first]
}

// typeOf is the pool type of the live block holding va (0 if none).
func (sp *specialPool) typeOf(va uintptr) pool.PoolType {
	mu.Lock()
	defer mu.Unlock()
	if b := sp.block(va); b != nil {
		return b.typ
	}
	return 0
}

// blockSize is the size of the block at va, stopping as free would if va
// is not one.
func (sp *specialPool) blockSize(va uintptr) uintptr {
	return sp.validate(va).size
}

// validate is the live block starting at va, or a 0xC1 stop.
func (sp *specialPool) validate(va uintptr) *specialBlock {
	b := sp.block(va)
	switch {
	case b == nil:
		corruption(va, 0, 0, freeNotAllocated)
	case b.va != va:
		corruption(va, b.size, pageVA(b.data+b.pages)-va, freeBadAddress)
	}
	return b
}

// free checks the block at va and releases its pages into quarantine.
func (sp *specialPool) free(va uintptr, tag pool.Tag) *specialBlock {
	b := sp.validate(va)
	if tag != 0 && tag != b.tag {
		bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, pool.CallerTagMismatch, va, uintptr(b.tag), uintptr(tag))
	}
	if bad, ok := sp.damaged(b); ok {
		sub := uintptr(slackAfter)
		if bad < b.va {
			sub = slackBefore
		}
		corruption(va, bad, 0, sub)
	}
	for i := range b.pages {
		sp.pages.Unmap(pageVA(b.data + i))
		pageState[b.data+i] = pageFreed
		delete(sp.owner, b.data+i)
	}
	delete(sp.blocks, b.data)
	sp.mapped -= b.pages
	sp.freed = append(sp.freed, freedRun{b.run, b.pages + 1})
	sp.freedSize += b.pages + 1
	for sp.freedSize > sp.quarantine {
		sp.releaseOldest()
	}
	return b
}

// damaged is the first slack byte of b that lost its pattern. It compares
// words, and bytes only in a word the block overlaps or that differs.
func (sp *specialPool) damaged(b *specialBlock) (uintptr, bool) {
	lo, hi := b.va, b.va+b.size
	for i := range b.pages {
		base := pageVA(b.data + i)
		p := sp.pages.Page(base)
		for j := 0; j < pageSize; j += wordBytes {
			a := base + uintptr(j)
			switch {
			case a >= lo && a+wordBytes <= hi: // inside the block
				continue
			case (a+wordBytes <= lo || a >= hi) && wordAt(p, j) == slackWord:
				continue
			}
			for k := range uintptr(wordBytes) {
				if (a+k < lo || a+k >= hi) && p[j+int(k)] != slackPattern {
					return a + k, true
				}
			}
		}
	}
	return 0, false
}

// The pattern as a word, for filling and checking a word at a time.
const (
	wordBytes = 8
	slackWord = slackPattern * 0x0101010101010101
)

// wordAt is the word at byte j of p (j a multiple of 8).
func wordAt(p *[pageSize]byte, j int) uint64 { return *(*uint64)(unsafe.Pointer(&p[j])) }

// fill writes the pattern over p.
func fill(p *[pageSize]byte) {
	for j := 0; j < pageSize; j += wordBytes {
		*(*uint64)(unsafe.Pointer(&p[j])) = slackWord
	}
}

// releaseOldest returns the oldest quarantined run's addresses to use;
// false if there is none.
func (sp *specialPool) releaseOldest() bool {
	if len(sp.freed) == 0 {
		return false
	}
	r := sp.freed[0]
	sp.freed = sp.freed[1:]
	sp.freedSize -= r.pages
	for i := r.run; i < r.run+r.pages; i++ {
		pageState[i] = pageFree
	}
	return true
}

// live is the live blocks (for Outstanding).
func (sp *specialPool) live() []*specialBlock {
	if sp == nil {
		return nil
	}
	out := make([]*specialBlock, 0, len(sp.blocks))
	for _, b := range sp.blocks {
		out = append(out, b)
	}
	return out
}

// checkSpecialIrql is special pool's own IRQL rule (the pool's: paged at
// most APC_LEVEL, any at most DISPATCH_LEVEL), for callers Verifier's IRQL
// checks do not cover: 0xC1 with the IRQL, the pool type, p3 (the size,
// or the address freed) and sub (0x30 allocate, 0x31 free).
func checkSpecialIrql(sub uintptr, t pool.PoolType, p3 uintptr) {
	irql := ke.CurrentIrql()
	if irql > ke.DispatchLevel || pool.KindOf(t).Paged() && irql > ke.ApcLevel {
		corruption(uintptr(irql), uintptr(t), p3, sub)
	}
}

// corruption stops with SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION.
func corruption(p1, p2, p3, sub uintptr) {
	bugcheck.KeBugCheckEx(bugcheck.SpecialPoolDetectedMemoryCorruption, p1, p2, p3, sub)
}

// allocateSpecial is a special-pool block counted under its tag, or 0.
func allocateSpecial(s *pool.System, t pool.PoolType, n uintptr, tag pool.Tag, prio pool.Priority, underrun bool, driver string, pc uintptr) uintptr {
	switch prio - prio.Base() {
	case pool.LowPoolPrioritySpecialPoolOverrun:
		underrun = false
	case pool.LowPoolPrioritySpecialPoolUnderrun:
		underrun = true
	}
	mu.Lock()
	defer mu.Unlock()
	va := state.special.allocate(t, n, tag, underrun, driver, pc)
	if va != 0 {
		counters.SpecialAllocations.Add(1)
		s.CountSpecial(t, tag, chargeOf(n), true)
	}
	return va
}

// freeSpecial frees a special-pool block and uncounts it.
func freeSpecial(s *pool.System, va uintptr, tag pool.Tag) {
	mu.Lock()
	defer mu.Unlock()
	b := state.special.free(va, tag)
	s.CountSpecial(b.typ, b.tag, chargeOf(b.size), false)
}

// chargeOf is the bytes a special-pool block counts as: its data pages.
func chargeOf(n uintptr) uintptr { return (max(n, 1) + pageSize - 1) &^ (pageSize - 1) }
