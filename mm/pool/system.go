// Package pool is ntgo's executive pool allocator: the core behind
// ExAllocatePoolWithTag and ExFreePoolWithTag (see mm/ex for the driver API).
//
// Structure. A System holds three pool descriptors, one per Kind (nonpaged
// NX, nonpaged executable, paged), each with its free lists and delayed-free
// queue (descriptor.go); a region per page source that counts pages against
// the configured maximum (source.go); the big-page table for allocations of
// whole pages (bigpages.go); the tag table (tags.go); and the per-processor
// lookaside lists (percpu.go, lookaside.go).
//
// Allocation of n bytes of type t:
//
//  1. IRQL: paged pool at most APC_LEVEL, any pool at most DISPATCH_LEVEL.
//  2. n > MaxSmallRequest (4064 bytes): whole pages, tracked in the big-page
//     table, no header.
//  3. Otherwise a block of units(n) 16-byte units with a header: the current
//     processor's lookaside list for that size if it has one and is not
//     empty, else the descriptor's ListHeads, else a new page.
//  4. If no page can be had, release everything cached (lookaside lists,
//     PendingFrees) for the pools sharing the region and try once more;
//     then fail cleanly with 0.
//
// Free of p: find the block (the big-page table for a page-aligned p, else
// the header just before p), validate it, count the free, and give it to the
// processor's lookaside list, else PendingFrees, else the descriptor. Bad
// frees stop with NT's bugchecks (bugchecks.go).
//
// Invariants. Every pool page is either a big run in the table or a
// small-block page in exactly one descriptor's registry, tiled by blocks whose
// BlockSize and next PreviousSize agree. A block is allocated (caller owns
// it), cached (lookaside or PendingFrees) or free (ListHeads, or an unlisted
// one-unit fragment); no two free blocks are adjacent. When nothing is
// allocated or cached, the descriptors hold no pages.
//
// The lookaside hit (fastpath.go) is the start of Allocate and Free: each
// serves the common case (a small block of a plain pool type, the current
// processor's list not empty, or not full) within its own body, or passes
// the request unchanged to the full path (allocateFull, freeFull), which
// does the rest, bugchecks included.
//
// Locking. Descriptor locks and the big-table lock are plain mutexes taken
// from goroutine context only; the kernel never allocates pool in trap
// context. The per-processor lists and tag counters are guarded by their
// processor's busy word (percpu.go), PendingFrees by its own short lock; the
// order is descriptor, then busy word or PendingFrees. The full path counts
// tags in the shared table with atomics, the fast path in its processor's
// counters; the descriptors' RunningAllocs, RunningDeAllocs and TotalBytes
// are those counters summed (SumTags).
//
// Memory. Pool pages are outside the Go heap; everything the pool writes in
// them is an integer (mem.go).
package pool

import (
	"errors"
	"math/rand/v2"
	"sync/atomic"

	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// Config is what the kernel (or a test) supplies to New.
type Config struct {
	// NonPaged backs both nonpaged descriptors, Paged the paged one; their
	// regions must not overlap. The maxima bound the pages the pool takes
	// from each (the kernel derives them from RAM).
	NonPaged, Paged                 PageSource
	MaxNonPagedBytes, MaxPagedBytes uintptr

	// Cookie is this boot's random header cookie; 0 draws one from the
	// runtime's generator.
	Cookie uint64
	// IRQL is the current IRQL, for tests that set it; nil means the
	// current processor's software copy (ke.CurrentIrql), which the kernel
	// uses.
	IRQL func() uint8
	// CPUNumber is the current processor's index into CPUs, for tests; nil
	// means ke.CurrentProcessorNumber.
	CPUNumber func() int
	// CPUs are the per-processor caches (embedded in each KPCR); nil means
	// one, owned by the System. New initializes them.
	CPUs []*PerCPU

	// DisableLookaside sends every small allocation and free to the
	// descriptors; DisableDelayFree releases every free at once instead of
	// queuing it on PendingFrees.
	DisableLookaside, DisableDelayFree bool

	// ReturnQuota gives back the charge of a block allocated with a quota
	// owner (see Allocate) and reports false if owner names no quota
	// block, which is BAD_POOL_CALLER CallerBadQuotaOwner.
	ReturnQuota func(owner uintptr, k Kind, bytes uintptr) bool
	// AllocatePool2 is ExAllocatePool2 of POOL_FLAGS that Allocate does not
	// decode itself (poolflags.go); nil fails them.
	AllocatePool2 func(f uint64, n uintptr, tag Tag) uintptr
}

// System is one set of pools.
type System struct {
	desc      [NumKinds]descriptor
	nonPaged  *region
	paged     *region
	big       bigTable
	tags      *tagTable
	cookie    cookie
	irql      func() uint8
	cpuNumber func() int
	hooked    bool // irql or cpuNumber is set (hookedProcessor)
	// cpus[:ncpus] are the processors' caches: Config.CPUs, then one for
	// each processor AddCPU adds before it starts. An entry is written
	// before ncpus covers it and never changes after, so the fast path
	// reads it without a lock.
	cpus          [ke.MaximumProcessors]*PerCPU
	ncpus         atomic.Int32
	lookaside     bool
	delayFree     bool
	returnQuota   func(owner uintptr, k Kind, bytes uintptr) bool
	allocatePool2 func(f uint64, n uintptr, tag Tag) uintptr
	verifier      atomic.Pointer[verifierHook] // verifier.go
	verifying     atomic.Bool
}

// New builds a System over c's page sources.
func New(c Config) (*System, error) {
	if c.NonPaged == nil || c.Paged == nil {
		return nil, errors.New("pool: need nonpaged and paged page sources")
	}
	if c.MaxNonPagedBytes < pageSize || c.MaxPagedBytes < pageSize {
		return nil, errors.New("pool: maximum pool sizes must be at least a page")
	}
	np, pg := newRegion(c.NonPaged, c.MaxNonPagedBytes), newRegion(c.Paged, c.MaxPagedBytes)
	if np.base < pg.base+pg.size && pg.base < np.base+np.size {
		return nil, errors.New("pool: nonpaged and paged page sources overlap")
	}
	s := &System{
		nonPaged:      np,
		paged:         pg,
		tags:          newTagTable(),
		cookie:        cookie(c.Cookie),
		irql:          c.IRQL,
		cpuNumber:     c.CPUNumber,
		hooked:        c.IRQL != nil || c.CPUNumber != nil,
		lookaside:     !c.DisableLookaside,
		delayFree:     !c.DisableDelayFree,
		returnQuota:   c.ReturnQuota,
		allocatePool2: c.AllocatePool2,
	}
	if s.cookie == 0 {
		s.cookie = cookie(rand.Uint64())
	}
	cpus := c.CPUs
	if cpus == nil {
		cpus = []*PerCPU{new(PerCPU)}
	}
	if len(cpus) > len(s.cpus) {
		return nil, errors.New("pool: more per-processor caches than ke.MaximumProcessors")
	}
	for i, p := range cpus {
		p.init()
		s.cpus[i] = p
	}
	s.ncpus.Store(int32(len(cpus)))
	s.big.init()
	regs := [NumKinds]*region{s.nonPaged, s.nonPaged, s.paged}
	for k := range NumKinds {
		if !s.desc[k].init(s, k, regs[k], k == KindNonPagedExecute) {
			return nil, errors.New("pool: no page for the free-list heads")
		}
	}
	return s, nil
}

// classify sizes a request: a small block of u units, or a big run of pages
// (pages 0 if n is too large to express).
func classify(t PoolType, n uintptr) (u, pages uintptr, big bool) {
	if n <= MaxSmallRequest {
		u = units(n)
		if t&CacheAlignedPoolTypeMask == 0 || u+cacheAlignUnits-1 <= maxBlockUnits {
			return u, 0, false
		}
	}
	if n > ^uintptr(0)-pageMask {
		return 0, 0, true
	}
	return 0, (n + pageMask) >> pageShift, true
}

// ChargeSize is what an allocation of n bytes of type t occupies: the whole
// block for a small one, whole pages for a big one. Quota is charged and tags
// are counted in these bytes.
func ChargeSize(t PoolType, n uintptr) uintptr {
	u, pages, big := classify(t, n)
	if big {
		return pages << pageShift
	}
	return u << BlockShift
}

// allocateFull is Allocate past the lookaside hit (fastpath.go).
func (s *System) allocateFull(t PoolType, n uintptr, tag Tag, prio Priority, owner uintptr) uintptr {
	va := s.allocateBlock(t, n, tag, prio, owner)
	if va == 0 && t&PoolRaiseIfAllocationFailure != 0 {
		ntstatus.Raise(ntstatus.InsufficientResources)
	}
	return va
}

// allocateBlock is allocateFull without the raise.
func (s *System) allocateBlock(t PoolType, n uintptr, tag Tag, prio Priority, owner uintptr) uintptr {
	k, ok := s.admit(t, n, tag, prio)
	if !ok {
		return 0
	}
	u, pages, big := classify(t, n)
	if big {
		return s.allocBig(k, t, pages, tag, prio, owner)
	}
	align := uintptr(1)
	attrs := uint8(typeAllocated)
	if t&CacheAlignedPoolTypeMask != 0 {
		align = cacheAlignUnits
		attrs |= typeCacheAligned
	}
	if owner != 0 {
		attrs |= typeQuota
	}
	d := &s.desc[k]
	var b uintptr
	if align == 1 && s.lookaside && u <= SmallLists {
		b = s.fromLookaside(d, u)
	}
	if b == 0 {
		if b = d.alloc(u, align, prio); b == 0 {
			s.reclaim(k)
			if b = d.alloc(u, align, prio); b == 0 {
				return 0
			}
		}
	}
	store8(b+offPoolType, attrs)
	store32(b+offPoolTag, uint32(tag))
	store64(b+offCheck, s.cookie.seal(b, owner))
	bytes := u << BlockShift
	s.counted(d, tag, bytes)
	if t&PoolZeroAllocation != 0 {
		clear(bytesAt(b+HeaderSize, bytes-HeaderSize))
	}
	return b + HeaderSize
}

// admit checks a request as every allocation does: misuse is a bugcheck,
// a type or priority the core does not serve is refused (false).
func (s *System) admit(t PoolType, n uintptr, tag Tag, prio Priority) (Kind, bool) {
	if t&MustSucceedPoolTypeMask != 0 {
		badPoolCaller(CallerMustSucceed, uintptr(t), n, uintptr(tag))
	}
	k := KindOf(t)
	if irql := s.currentIrql(); irql > DispatchLevel || k.Paged() && irql > APCLevel {
		badPoolCaller(CallerAllocIRQL, uintptr(irql), uintptr(t), n)
	}
	return k, t&^coreTypeBits == 0 && t&SessionPoolMask == 0 && prio.Valid()
}

// PlacesOnNodes reports whether the non-paged pool's page source can take
// frames from a NUMA node (NodePageSource): AllocateOnNode can serve a
// node only then.
func (s *System) PlacesOnNodes() bool {
	_, ok := s.nonPaged.src.(NodePageSource)
	return ok
}

// AllocateOnNode is Allocate for ExAllocatePool3's NUMA node: the pool
// keeps no blocks per node (NT keeps a non-paged pool per node), so a
// non-paged request is served as a big allocation, whole pages whatever
// n, whose frames come from node first (only from it if required); paged
// pool, which the node does not apply to, is Allocate. It returns 0 when
// no such pages can be had, also when the page source cannot place pages
// on a node (NodePageSource).
func (s *System) AllocateOnNode(t PoolType, n uintptr, tag Tag, prio Priority, owner uintptr, node uint32, required bool) uintptr {
	k, ok := s.admit(t, n, tag, prio)
	if !ok {
		return 0
	}
	if k.Paged() {
		return s.allocateBlock(t, n, tag, prio, owner)
	}
	pages := NodePages(n)
	d := &s.desc[k]
	if pages == 0 || pages > uintptr(d.reg.maxPages.Load()) {
		return 0
	}
	va, ok := d.reg.takeOnNode(int(pages), d.exec, prio, node, required)
	if !ok {
		return 0
	}
	s.recordBig(d, k, t, va, pages, tag, owner)
	return va
}

// NodePages is the pages an AllocateOnNode of n bytes takes (0 if n is too
// large): what quota is charged for it.
func NodePages(n uintptr) uintptr {
	if n > ^uintptr(0)-pageMask {
		return 0
	}
	return max((n+pageMask)>>pageShift, 1)
}

// fromLookaside pops a cached block of u units from this processor's list
// and marks it allocated, or returns 0 (empty, or the list is busy).
func (s *System) fromLookaside(d *descriptor, u uintptr) uintptr {
	c := s.cpu()
	if !c.claim() {
		return 0
	}
	l := c.list(d.kind, u)
	e, next, ok := l.peek()
	if !ok {
		c.release()
		s.CorruptedExpool(next)
	}
	if e == 0 {
		l.totalAllocates++
		l.allocateMisses++
		c.release()
		return 0
	}
	l.take(next)
	c.release()
	b := e - HeaderSize
	d.checkCached(b, u)
	setState(b, typeCached, typeAllocated)
	return b
}

func (s *System) allocBig(k Kind, t PoolType, pages uintptr, tag Tag, prio Priority, owner uintptr) uintptr {
	d := &s.desc[k]
	if pages == 0 || pages > uintptr(d.reg.maxPages.Load()) {
		return 0
	}
	va, ok := d.reg.take(int(pages), d.exec, prio)
	if !ok {
		s.reclaim(k)
		if va, ok = d.reg.take(int(pages), d.exec, prio); !ok {
			return 0
		}
	}
	s.recordBig(d, k, t, va, pages, tag, owner)
	return va
}

// recordBig enters a big allocation of pages at va in the big-page table
// and the counters, and zeroes it if t asks.
func (s *System) recordBig(d *descriptor, k Kind, t PoolType, va, pages uintptr, tag Tag, owner uintptr) {
	s.big.insert(bigEntry{va: va, pages: pages, owner: owner, tag: tag, typ: t, kind: k})
	d.totalBigPages.Add(int64(pages))
	bytes := pages << pageShift
	s.counted(d, tag, bytes)
	if t&PoolZeroAllocation != 0 {
		clear(bytesAt(va, bytes))
	}
}

func (s *System) counted(d *descriptor, tag Tag, bytes uintptr) {
	s.tags.alloc(tag, d.kind, bytes)
}

func (s *System) uncounted(d *descriptor, tag Tag, bytes uintptr) {
	s.tags.free(tag, d.kind, bytes)
}

// block is what locate learns about an allocation.
type block struct {
	va    uintptr // caller's address
	b     uintptr // header (small) or va (big)
	kind  Kind
	big   bool
	bytes uintptr // block or run size, as charged
	tag   Tag
	typ   PoolType
	owner uintptr
}

// locate finds and validates the live allocation at va, stopping with the
// matching BAD_POOL_CALLER or BAD_POOL_HEADER if there is none.
func (s *System) locate(va uintptr) block {
	r := s.regionOf(va)
	if r == nil {
		badPoolCaller(CallerNeverInPool, va, 0, 0)
	}
	if va&pageMask == 0 {
		e, ok := s.big.lookup(va)
		if !ok {
			s.notAllocated(r, va)
		}
		return block{va: va, b: va, kind: e.kind, big: true, bytes: e.pages << pageShift, tag: e.tag, typ: e.typ, owner: e.owner}
	}
	if va&(BlockUnit-1) != 0 || va&pageMask < HeaderSize || !r.src.Mapped(va) {
		badPoolCaller(CallerInvalidAddress, va, 0, 0)
	}
	b := va - HeaderSize
	h := readHeader(b)
	if h.state() != typeAllocated {
		badPoolCaller(CallerDoubleFree, 0, ulong1(b), va)
	}
	owner := s.cookie.open(b, h.check)
	if h.typ&typeQuota == 0 && owner != 0 {
		badPoolCaller(CallerInvalidHeader, va, 0, 0)
	}
	if h.index >= uint8(NumKinds) || s.desc[h.index].reg != r || h.size == 1 {
		badPoolCaller(CallerHeaderCorrupt, b, ulong1(b), 0)
	}
	if h.size == 0 {
		badPoolHeader(HeaderSizeZero, 0, 0, b)
	}
	next, end := b+uintptr(h.size)<<BlockShift, b&^pageMask+pageSize
	if next > end {
		badPoolHeader(HeaderSizeTooLarge, next, 0, b)
	}
	if next < end && load8(next+offPreviousSize) != h.size {
		badPoolHeader(HeaderNextPreviousSize, b, next, 0)
	}
	k := Kind(h.index)
	typ := k.PoolType()
	if h.typ&typeCacheAligned != 0 {
		typ |= CacheAlignedPoolTypeMask
	}
	return block{va: va, b: b, kind: k, bytes: uintptr(h.size) << BlockShift, tag: h.tag, typ: typ, owner: owner}
}

// regionOf is the region whose address range holds va, or nil.
func (s *System) regionOf(va uintptr) *region {
	switch {
	case s.nonPaged.holds(va):
		return s.nonPaged
	case s.paged.holds(va):
		return s.paged
	}
	return nil
}

// notAllocated stops for a page-aligned address in region r that is not a
// live big allocation.
func (s *System) notAllocated(r *region, va uintptr) {
	if r == s.paged {
		badPoolCaller(CallerPagedNotAllocated, va, (va-r.base)>>pageShift, r.size)
	}
	badPoolCaller(CallerNonPagedNotAllocated, va, 0, 0)
}

// freeFull is Free past the lookaside hit (fastpath.go).
func (s *System) freeFull(va uintptr, tag Tag) {
	blk := s.locate(va)
	if irql := s.currentIrql(); irql > DispatchLevel || blk.kind.Paged() && irql > APCLevel {
		badPoolCaller(CallerFreeIRQL, uintptr(irql), uintptr(blk.typ), va)
	}
	if tag != 0 && tag != blk.tag {
		badPoolCaller(CallerTagMismatch, va, uintptr(blk.tag), uintptr(tag))
	}
	if blk.big {
		s.freeBig(blk)
		return
	}
	s.freeSmall(blk)
}

func (s *System) freeSmall(blk block) {
	b, d := blk.b, &s.desc[blk.kind]
	if !setState(b, typeAllocated, typeCached) {
		badPoolCaller(CallerDoubleFree, 0, ulong1(b), blk.va)
	}
	if blk.owner != 0 {
		s.giveBackQuota(blk)
		store8(b+offPoolType, load8(b+offPoolType)&^typeQuota)
		store64(b+offCheck, s.cookie.seal(b, 0))
	}
	s.uncounted(d, blk.tag, blk.bytes)
	u := blk.bytes >> BlockShift
	switch {
	case s.lookaside && u <= SmallLists && s.toLookaside(d.kind, u, blk.va):
	case s.delayFree:
		d.deferFree(b)
	default:
		d.mu.Lock()
		d.release(b)
		d.mu.Unlock()
	}
}

func (s *System) freeBig(blk block) {
	e, ok := s.big.remove(blk.va)
	if !ok { // lost a race with another free of the same run
		s.notAllocated(s.regionOf(blk.va), blk.va)
	}
	if e.owner != 0 {
		s.giveBackQuota(blk)
	}
	d := &s.desc[e.kind]
	d.reg.give(e.va, int(e.pages))
	d.totalBigPages.Add(-int64(e.pages))
	s.uncounted(d, e.tag, blk.bytes)
}

func (s *System) giveBackQuota(blk block) {
	if s.returnQuota == nil || !s.returnQuota(blk.owner, blk.kind, blk.bytes) {
		badPoolCaller(CallerBadQuotaOwner, blk.va, uintptr(blk.tag), blk.owner)
	}
}

// BlockSize is ExQueryPoolBlockSize: the usable bytes of the allocation at
// va (body of a small block, whole pages of a big one) and whether quota was
// charged for it.
func (s *System) BlockSize(va uintptr) (bytes uintptr, quotaCharged bool) {
	if n, ok := s.specialBlockSize(va); ok {
		return n, false
	}
	blk := s.locate(va)
	if blk.big {
		return blk.bytes, blk.owner != 0
	}
	return blk.bytes - HeaderSize, blk.owner != 0
}

// toLookaside caches the freed block body va of u units of pool k on this
// processor's list; false if the list is full or busy.
func (s *System) toLookaside(k Kind, u, va uintptr) bool {
	c := s.cpu()
	if !c.claim() {
		return false
	}
	ok := c.list(k, u).push(va)
	c.release()
	return ok
}

// cpu is the current processor's PerCPU. A processor without its own
// (one the kernel started without AddCPU, or a test's number past its
// sets) shares one with another: the busy word makes sharing safe, and a
// taken one sends the caller to the full path.
func (s *System) cpu() *PerCPU {
	if s.cpuNumber != nil {
		return s.cpuAt(s.cpuNumber())
	}
	return s.cpuAt(ke.CurrentProcessorNumber())
}

// cpuAt is processor n's PerCPU, or the one it shares (see cpu).
func (s *System) cpuAt(n int) *PerCPU {
	if have := uint(s.ncpus.Load()); uint(n) >= have {
		n = int(uint(n) % have)
	}
	return s.cpus[n]
}

// hookedProcessor is the processor number and IRQL from Config's test
// hooks, each ke's where the hook is nil.
func (s *System) hookedProcessor() (int, uint8) {
	n := ke.CurrentProcessorNumber()
	if s.cpuNumber != nil {
		n = s.cpuNumber()
	}
	return n, s.currentIrql()
}

// AddCPU gives processor n its own lookaside lists and tag counters (NT's
// per-processor lists in the KPRCB), which it uses from then on. The
// kernel calls it (through mm.AddProcessor) for each processor, in order,
// before starting it: n must be the next processor without caches.
func (s *System) AddCPU(n int) error {
	if n != int(s.ncpus.Load()) || n >= len(s.cpus) {
		return errors.New("pool: AddCPU out of order or past ke.MaximumProcessors")
	}
	c := new(PerCPU)
	c.init()
	s.cpus[n] = c
	s.ncpus.Store(int32(n + 1))
	return nil
}

// allCPUs is every processor's caches.
func (s *System) allCPUs() []*PerCPU { return s.cpus[:s.ncpus.Load()] }

// currentIrql is the IRQL the pool's rules are checked against.
func (s *System) currentIrql() uint8 {
	if s.irql != nil {
		return s.irql()
	}
	return uint8(ke.CurrentIrql())
}

// CPU is processor n's caches, for statistics.
func (s *System) CPU(n int) *PerCPU { return s.cpus[n] }

// CPUs is the number of processors with caches.
func (s *System) CPUs() int { return int(s.ncpus.Load()) }

// IRQL is the current IRQL as Config.IRQL reports it, for callers that
// apply the pool's IRQL rules themselves (mm/ex's paged lookaside lists).
func (s *System) IRQL() uint8 { return s.currentIrql() }

// reclaim releases every cached block of the pools that share k's region:
// all processors' lookaside lists and PendingFrees.
func (s *System) reclaim(k Kind) {
	for i := range s.desc {
		d := &s.desc[i]
		if d.reg != s.desc[k].reg {
			continue
		}
		d.mu.Lock()
		d.drainPending()
		for _, c := range s.allCPUs() {
			if !c.wait() {
				continue // its holder is stopped; those blocks stay cached
			}
			var chains [SmallLists]uintptr
			for u := range chains {
				l := &c.lists[d.kind][u]
				chains[u], l.head, l.count = l.head, 0, 0
			}
			c.release()
			for _, first := range chains {
				d.releaseChain(first)
			}
		}
		d.mu.Unlock()
	}
}

// Flush releases every cached block in every pool, so pages held only by
// caches go back to their sources.
func (s *System) Flush() {
	s.reclaim(KindNonPagedNx)
	s.reclaim(KindPaged)
}

// AdjustLookasideDepths runs the depth policy on every per-processor list;
// the kernel calls it about once a second.
func (s *System) AdjustLookasideDepths() {
	for _, c := range s.allCPUs() {
		if !c.wait() {
			continue
		}
		for k := range c.lists {
			for i := range c.lists[k] {
				c.lists[k][i].adjustDepth()
			}
		}
		c.release()
	}
}

// DescriptorStats are a descriptor's counters.
type DescriptorStats struct {
	PoolType                       PoolType
	PoolIndex                      Kind
	RunningAllocs, RunningDeAllocs uint64
	TotalPages, TotalBigPages      int64 // small-block pages, big-allocation pages
	TotalBytes                     int64 // allocated to callers, as charged
	PendingFrees                   uint32
	RegionPages, RegionMaxPages    int64 // pages taken from the shared region, its maximum
}

// Stats are the counters of pool k; RunningAllocs, RunningDeAllocs and
// TotalBytes are the tag counters summed (SumTags).
func (s *System) Stats(k Kind) DescriptorStats {
	d := &s.desc[k]
	st := DescriptorStats{
		PoolType: k.PoolType(), PoolIndex: k,
		TotalPages: d.totalPages.Load(), TotalBigPages: d.totalBigPages.Load(),
		PendingFrees: d.pending.Depth(),
		RegionPages:  d.reg.used.Load(), RegionMaxPages: d.reg.maxPages.Load(),
	}
	for _, t := range s.SumTags() {
		c := t.Kinds[k]
		st.RunningAllocs += c.Allocs
		st.RunningDeAllocs += c.Frees
		st.TotalBytes += c.Bytes
	}
	return st
}

// SetMaxPagedBytes sets paged pool's maximum to n bytes (at most its
// page source's region): a paging file added after start-up lets paged
// pool grow beyond what RAM alone could hold.
func (s *System) SetMaxPagedBytes(n uintptr) {
	s.paged.maxPages.Store(int64(min(n, s.paged.size) >> pageShift))
}
