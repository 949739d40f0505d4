// Package securepool is the allocator behind NT's secure pools
// (ExCreatePool with POOL_CREATE_FLG_SECURE_POOL, ExAllocatePool3 with a
// secure-pool parameter, ExSecurePoolValidate, ExSecurePoolUpdate,
// ExFreePool2, ExDestroyPool; mm/ex has the driver-facing routines).
//
// Windows keeps secure pools in VTL 1, where the hypervisor stops any
// write from the normal kernel. ntgo has no hypervisor, so the protection
// comes from the page tables: every page of a secure pool is mapped
// read-only and no-execute (CR0.WP is on, so ring 0 is held to that too),
// and this package writes only through Pages.Write, which maps the frame
// writable at a per-processor alias for the copy and takes the alias down,
// TLB entry flushed, before it returns. A write from anywhere else faults:
// ATTEMPTED_WRITE_TO_READONLY_MEMORY with the writer's RIP. What that
// protects against: stray and malicious writes through ordinary mappings.
// What it does not: code that edits page tables or clears CR0.WP, which
// only a hypervisor can stop.
//
// Structure. A System is the set of secure pools over one Pages (the
// kernel's secure-pool region, or a simulated MMU on the host). A pool is
// a handle, a tag and its pages: small-block pages tiled by blocks, and big
// runs holding one block each. Every block starts with a 32-byte header in
// the protected page (header.go): its pool's handle, size, state and
// SECURE_POOL_FLAGS, tag and cookie, and a check word keyed with a secret
// drawn at New and bound to the header's address, so a header copied to
// another place, forged in writable memory or damaged fails its check. The
// headers are the free lists too: an allocation walks a page's headers for
// a free block, merging free neighbours as it goes. Which pages belong to
// which pool is kept in the System (the Go heap, which no driver holds a
// pointer to: handles are numbers, not addresses).
//
// Invariants. Each small-block page is tiled by blocks whose units add up
// to a page; a block is allocated or free; a page with nothing allocated is
// given back. A big run's header opens its first page. Every header's check
// matches. A destroyed pool's handle is never handed out again.
//
// Locking. One mutex per System serializes every routine: secure pools are
// for a driver's few long-lived secrets, not for speed. A routine's writes
// to a page are batched into one Pages.Write (batch.go), which takes its
// own interrupt-disabling lock for the alias.
package securepool

import (
	"math/rand/v2"
	"sync"

	"ntgo/mm/physmem"
	"ntgo/mm/pool"
)

const (
	pageSize  = physmem.PageSize
	pageMask  = physmem.PageMask
	unitBytes = 16
	pageUnits = pageSize / unitBytes
)

// Pages is where a System's pages come from and how it writes them.
type Pages interface {
	// AllocPages maps n zeroed pages read-only and no-execute and returns
	// the first; ok is false if no frames or VA are left.
	AllocPages(n int) (va uintptr, ok bool)
	// FreePages unmaps a run AllocPages handed out and frees its frames.
	FreePages(va uintptr, n int)
	// Write copies each run to its offset in page, a page handed out,
	// through a writable alias of the page's frame that is gone, TLB
	// entry flushed, when it returns; every run lies within the page.
	Write(page uintptr, runs []Run)
	// Read copies the bytes at va into dst (a plain read of the read-only
	// mapping); the range lies in one page handed out.
	Read(va uintptr, dst []byte)
	// Region is the VA range the pages come from.
	Region() (base, size uintptr)
}

// Handle is a secure pool's handle (ExCreatePool's PoolHandle).
type Handle uintptr

// SECURE_POOL_FLAGS_* bits, as mm/ex takes them from drivers.
const (
	Freeable   uint32 = 0x1
	Modifiable uint32 = 0x2
	ValidFlags        = Freeable | Modifiable
)

// Fault is why a call on a secure pool was refused; mm/ex turns it into
// NT's status or bugcheck.
type Fault uint8

const (
	OK            Fault = iota
	BadHandle           // no live pool has the handle
	NotInPool           // the address is no block body of this pool's pages
	BadHeader           // the header fails its check: damaged, or forged
	NotAllocated        // the block is free (freed before)
	WrongTag            // the tag is not the block's
	WrongCookie         // the cookie is not the block's
	NotModifiable       // update of a block allocated without SECURE_POOL_FLAGS_MODIFIABLE
	NotFreeable         // free of a block allocated without SECURE_POOL_FLAGS_FREEABLE
	OutOfRange          // update beyond the block
	NoMemory            // no page for the allocation
)

var faultNames = [...]string{"ok", "invalid handle", "not a block of this pool", "header check failed",
	"block not allocated", "wrong tag", "wrong cookie", "not modifiable", "not freeable", "out of range", "no memory"}

func (f Fault) String() string { return faultNames[f] }

// pageOwner is which pool owns a page that opens a block run.
type pageOwner struct {
	pool  *securePool
	pages int // 1 for a small-block page; the run's length for a big one
	big   bool
}

type securePool struct {
	handle Handle
	tag    pool.Tag
	small  []uintptr // small-block pages, in the order they were taken
	big    []uintptr // big runs' first pages
}

// System is a set of secure pools over one Pages.
type System struct {
	mu      sync.Mutex
	pages   Pages
	key     uint64
	next    Handle
	pools   map[Handle]*securePool
	owners  map[uintptr]pageOwner
	tags    map[pool.Tag]*pool.TagCounts
	inUse   int              // pages held
	b       batch            // the current call's queued writes
	scratch [headerSize]byte // where headers are read (readHeader)
}

// New is an empty System over pages; key 0 draws the header key.
func New(pages Pages, key uint64) *System {
	for key == 0 {
		key = rand.Uint64()
	}
	// Handles start at a random point below 2^30 and count up, so they fit
	// the header's 32 bits for a billion creations.
	return &System{pages: pages, key: key, next: Handle(rand.Uint32()>>2) | 1,
		pools: map[Handle]*securePool{}, owners: map[uintptr]pageOwner{}, tags: map[pool.Tag]*pool.TagCounts{}}
}

// Create is a new pool with tag; the handle is never reused.
func (s *System) Create(tag pool.Tag) Handle {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.next
	s.next++
	s.pools[h] = &securePool{handle: h, tag: tag}
	return h
}

// Destroy gives back every page of h's pool, allocated blocks included,
// and retires h.
func (s *System) Destroy(h Handle) Fault {
	s.mu.Lock()
	defer s.unlock()
	p, ok := s.pools[h]
	if !ok {
		return BadHandle
	}
	for _, pg := range p.small {
		s.countPageFrees(pg)
		s.release(pg)
	}
	for _, pg := range p.big {
		s.countBigFree(pg)
		s.release(pg)
	}
	delete(s.pools, h)
	return OK
}

// release gives back the run opening at page.
func (s *System) release(page uintptr) {
	s.flush()
	o := s.owners[page]
	delete(s.owners, page)
	s.pages.FreePages(page, o.pages)
	s.inUse -= o.pages
}

// Allocate is a block of n bytes in h's pool holding a copy of init (n
// bytes), with tag, cookie and SECURE_POOL_FLAGS flags.
func (s *System) Allocate(h Handle, n uintptr, tag pool.Tag, init []byte, cookie uint64, flags uint32) (uintptr, Fault) {
	s.mu.Lock()
	defer s.unlock()
	p, ok := s.pools[h]
	if !ok {
		return 0, BadHandle
	}
	hd := header{handle: h, tag: tag, bytes: uint32(n), cookie: cookie, state: stateAllocated | uint16(flags)}
	var b uintptr
	if need := headerSize + n; need > pageSize-unitBytes {
		b = s.allocBig(p, need, hd)
	} else {
		b = s.allocSmall(p, need, hd)
	}
	if b == 0 {
		return 0, NoMemory
	}
	body := b + headerSize
	s.write(body, init)
	s.count(tag, int64(n), true)
	return body, OK
}

// allocBig takes a run for one block of need bytes, header included.
func (s *System) allocBig(p *securePool, need uintptr, hd header) uintptr {
	n := int((need + pageMask) / pageSize)
	if n > maxBigPages {
		return 0
	}
	va, ok := s.pages.AllocPages(n)
	if !ok {
		return 0
	}
	s.inUse += n
	s.owners[va] = pageOwner{pool: p, pages: n, big: true}
	p.big = append(p.big, va)
	hd.units = uint16(n)
	hd.state |= stateBig
	s.writeHeader(va, hd)
	return va
}

// allocSmall carves a block of need bytes from the first free block that
// fits in p's pages, taking a page if none does.
func (s *System) allocSmall(p *securePool, need uintptr, hd header) uintptr {
	u := (need + unitBytes - 1) / unitBytes
	for _, pg := range p.small {
		if b := s.carve(pg, u, hd); b != 0 {
			return b
		}
	}
	pg, ok := s.pages.AllocPages(1)
	if !ok {
		return 0
	}
	s.inUse++
	s.owners[pg] = pageOwner{pool: p, pages: 1}
	p.small = append(p.small, pg)
	s.writeHeader(pg, header{handle: p.handle, units: pageUnits})
	return s.carve(pg, u, hd)
}

// carve allocates u units in page pg for hd, merging free neighbours on
// the way; 0 if no free block is large enough.
func (s *System) carve(pg, u uintptr, hd header) uintptr {
	for off := uintptr(0); off < pageUnits; {
		b := pg + off*unitBytes
		h := s.mustHeader(b)
		if h.state&stateAllocated == 0 {
			h = s.merge(pg, off, h)
			if uintptr(h.units) >= u {
				if rest := uintptr(h.units) - u; rest > 1 {
					s.writeHeader(b+u*unitBytes, header{handle: h.handle, units: uint16(rest)})
				} else {
					u = uintptr(h.units)
				}
				hd.units = uint16(u)
				s.writeHeader(b, hd)
				return b
			}
		}
		off += uintptr(h.units)
	}
	return 0
}

// join is the free block h at unit off of page pg joined with the free
// blocks after it; an allocated h is returned as it is.
func (s *System) join(pg, off uintptr, h header) header {
	if h.state&stateAllocated != 0 {
		return h
	}
	joined := h
	for next := off + uintptr(h.units); next < pageUnits; {
		n := s.mustHeader(pg + next*unitBytes)
		if n.state&stateAllocated != 0 {
			break
		}
		joined.units += n.units
		next += uintptr(n.units)
	}
	return joined
}

// merge is join, with the joined header written if it grew.
func (s *System) merge(pg, off uintptr, h header) header {
	joined := s.join(pg, off, h)
	if joined.units != h.units {
		s.writeHeader(pg+off*unitBytes, joined)
	}
	return joined
}

// find is the allocated block whose body is at va in h's pool, checked
// against tag and cookie.
func (s *System) find(h Handle, tag pool.Tag, va uintptr, cookie uint64) (header, pageOwner, Fault) {
	p, ok := s.pools[h]
	if !ok {
		return header{}, pageOwner{}, BadHandle
	}
	b := va - headerSize
	if va%unitBytes != 0 || va < headerSize {
		return header{}, pageOwner{}, NotInPool
	}
	o, ok := s.owners[b&^pageMask]
	if !ok || o.pool != p || (o.big && b&pageMask != 0) {
		return header{}, pageOwner{}, NotInPool
	}
	hd, sound := s.readHeader(b)
	switch {
	case !sound || hd.handle != h:
		return hd, o, BadHeader
	case hd.state&stateAllocated == 0:
		return hd, o, NotAllocated
	case hd.tag != tag:
		return hd, o, WrongTag
	case hd.cookie != cookie:
		return hd, o, WrongCookie
	}
	return hd, o, OK
}

// Validate is ExSecurePoolValidate: OK if va is an allocated block of h's
// pool with tag and cookie.
func (s *System) Validate(h Handle, tag pool.Tag, va uintptr, cookie uint64) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _, f := s.find(h, tag, va, cookie)
	return f
}

// Update is ExSecurePoolUpdate: src replaces the block's bytes from off.
func (s *System) Update(h Handle, tag pool.Tag, va uintptr, cookie uint64, off uintptr, src []byte) Fault {
	s.mu.Lock()
	defer s.unlock()
	hd, _, f := s.find(h, tag, va, cookie)
	switch {
	case f != OK:
		return f
	case uint32(hd.state)&Modifiable == 0:
		return NotModifiable
	case off > uintptr(hd.bytes) || uintptr(len(src)) > uintptr(hd.bytes)-off:
		return OutOfRange
	}
	s.write(va+off, src)
	return OK
}

// Free is ExFreePool2 with the secure-pool parameter: the block's body is
// zeroed and its header marked free; a page left empty is given back.
func (s *System) Free(h Handle, tag pool.Tag, va uintptr, cookie uint64) Fault {
	s.mu.Lock()
	defer s.unlock()
	hd, o, f := s.find(h, tag, va, cookie)
	switch {
	case f != OK:
		return f
	case uint32(hd.state)&Freeable == 0:
		return NotFreeable
	}
	s.count(tag, int64(hd.bytes), false)
	b := va - headerSize
	if o.big {
		s.dropBig(o.pool, b)
		return OK
	}
	s.zero(va, uintptr(hd.units)*unitBytes-headerSize)
	pg := b &^ pageMask
	s.writeHeader(b, s.join(pg, (b-pg)/unitBytes, header{handle: h, units: hd.units}))
	if whole := s.merge(pg, 0, s.mustHeader(pg)); whole.units == pageUnits && whole.state&stateAllocated == 0 {
		o.pool.small = remove(o.pool.small, pg)
		s.release(pg)
	}
	return OK
}

// dropBig gives back the big run at b.
func (s *System) dropBig(p *securePool, b uintptr) {
	p.big = remove(p.big, b)
	s.release(b)
}

func remove(list []uintptr, v uintptr) []uintptr {
	for i, x := range list {
		if x == v {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// count adds an allocation (or a free) of n bytes to tag's counters.
func (s *System) count(tag pool.Tag, n int64, alloc bool) {
	c := s.tags[tag]
	if c == nil {
		c = &pool.TagCounts{}
		s.tags[tag] = c
	}
	if alloc {
		c.Allocs++
		c.Bytes += n
	} else {
		c.Frees++
		c.Bytes -= n
	}
}

// countPageFrees counts the frees of a destroyed pool's allocated blocks
// in small-block page pg.
func (s *System) countPageFrees(pg uintptr) {
	for off := uintptr(0); off < pageUnits; {
		h := s.mustHeader(pg + off*unitBytes)
		if h.state&stateAllocated != 0 {
			s.count(h.tag, int64(h.bytes), false)
		}
		off += uintptr(h.units)
	}
}

func (s *System) countBigFree(pg uintptr) {
	if h := s.mustHeader(pg); h.state&stateAllocated != 0 {
		s.count(h.tag, int64(h.bytes), false)
	}
}

// write queues src for va, page by page.
func (s *System) write(va uintptr, src []byte) {
	for len(src) > 0 {
		n := min(uintptr(len(src)), pageSize-va&pageMask)
		s.queue(va, src[:n])
		va, src = va+n, src[n:]
	}
}

// zeros is the source of zeroing writes.
var zeros [pageSize]byte

func (s *System) zero(va, n uintptr) {
	for n > 0 {
		c := min(n, pageSize-va&pageMask)
		s.queue(va, zeros[:c])
		va, n = va+c, n-c
	}
}

// MaxBytes is the region's size: no block is larger, so a caller's
// buffer of more is refused before anything reads it.
func (s *System) MaxBytes() uintptr {
	_, size := s.pages.Region()
	return size
}

// PagesInUse is how many pages the System's pools hold.
func (s *System) PagesInUse() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inUse
}
