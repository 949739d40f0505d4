// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The request queue under the extension's lock (virtioblk.go's package
// comment): building and publishing chains for goroutine requests and for
// the fault handler's page-ins, the service routine that harvests the used
// ring, and the queue memory's accessors. The lock disables interrupts, so
// whatever runs under it here is nosplit whichever context took it.

package virtioblk

import (
	"sync/atomic"
	"unsafe"

	"ntgo/kernel"
	"ntgo/mm"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/nt/ntstatus"
)

// ownerPageIn marks a chain a page-in owns; the low bits are its tag.
const ownerPageIn = 1 << 31

//go:nosplit
func (x *extension) desc(i uint16) *desc {
	return (*desc)(pool.Ptr(x.queue + uintptr(i)*unsafe.Sizeof(desc{})))
}

//go:nosplit
func (x *extension) header(i uint16) *requestHeader {
	return (*requestHeader)(pool.Ptr(x.queue + x.headerOff + uintptr(i)*unsafe.Sizeof(requestHeader{})))
}

//go:nosplit
func (x *extension) status(i uint16) *uint8 {
	return (*uint8)(pool.Ptr(x.queue + x.statusOff + uintptr(i)))
}

// availWord is the available ring's flags (low half, 0: interrupts wanted)
// and idx (high half), stored as one word so the publication is atomic.
//
//go:nosplit
func (x *extension) availWord() *uint32 { return (*uint32)(pool.Ptr(x.queue + x.availOff)) }

//go:nosplit
func (x *extension) availRing(i uint16) *uint16 {
	return (*uint16)(pool.Ptr(x.queue + x.availOff + 4 + uintptr(i%x.n)*2))
}

// usedWord is the used ring's flags and idx, as availWord.
//
//go:nosplit
func (x *extension) usedWord() *uint32 { return (*uint32)(pool.Ptr(x.queue + x.usedOff)) }

//go:nosplit
func (x *extension) usedRing(i uint16) *usedElem {
	return (*usedElem)(pool.Ptr(x.queue + x.usedOff + 4 + uintptr(i%x.n)*unsafe.Sizeof(usedElem{})))
}

// runs counts the physically contiguous runs of frames (each at most
// maxRunBytes): the data descriptors a request needs.
//
//go:nosplit
func runs(frames []physmem.PFN) int {
	count := 0
	for i := 0; i < len(frames); i = runEnd(frames, i) {
		count++
	}
	return count
}

// runEnd is the end of the run of frames starting at i.
//
//go:nosplit
func runEnd(frames []physmem.PFN, i int) int {
	j := i + 1
	for j < len(frames) && frames[j] == frames[j-1]+1 && uint64(j-i)*physmem.PageSize < maxRunBytes {
		j++
	}
	return j
}

// chain takes a chain from the free list for a request of type typ at byte
// offset off over frames, fills it and publishes it, and returns its head;
// the caller holds the lock and checked there are runs(frames) + 2 free
// descriptors.
//
//go:nosplit
func (x *extension) chain(typ uint32, off uint64, frames []physmem.PFN, owner uint32) uint16 {
	head := x.freeHead
	*x.header(head) = requestHeader{typ: typ, sector: off / sectorSize}
	*x.status(head) = statusPending
	dsc := x.desc(head)
	*dsc = desc{addr: x.queuePA + uint64(x.headerOff) + uint64(head)*uint64(unsafe.Sizeof(requestHeader{})),
		len: uint32(unsafe.Sizeof(requestHeader{})), flags: descNext, next: dsc.next}
	dataFlags := uint16(descNext)
	if typ == requestIn {
		dataFlags |= descWrite
	}
	used := uint16(2)
	for i := 0; i < len(frames); {
		j := runEnd(frames, i)
		dsc = x.desc(dsc.next)
		*dsc = desc{addr: frames[i].Addr(), len: uint32(j-i) * physmem.PageSize, flags: dataFlags, next: dsc.next}
		used++
		i = j
	}
	last := x.desc(dsc.next)
	x.freeHead = last.next
	x.freeCount -= used
	*last = desc{addr: x.queuePA + uint64(x.statusOff) + uint64(head), len: 1, flags: descWrite, next: last.next}
	x.owner[head] = owner
	*x.availRing(x.availIdx) = head
	x.availIdx++
	atomic.StoreUint32(x.availWord(), uint32(x.availIdx)<<16)
	x.inFlight++
	x.maxInFlight = max(x.maxInFlight, x.inFlight)
	return head
}

// submit publishes a goroutine request and returns its request slot, or
// -1 if there is no room now (counted once per request: waited says it
// has waited already).
//
//go:nosplit
func (x *extension) submit(typ uint32, off uint64, frames []physmem.PFN, waited bool) int {
	x.lock.Acquire()
	if int(x.freeCount) < runs(frames)+2 || x.inFlight >= maxRequests {
		if !waited {
			x.roomWaits++
		}
		x.lock.Release()
		return -1
	}
	r := 0
	for x.reqBusy[r] {
		r++ // fewer than maxRequests goroutine requests are in flight
	}
	x.reqBusy[r], x.reqDone[r] = true, false
	x.chain(typ, off, frames, uint32(r)+1)
	x.lock.Release()
	return r
}

// StartPageIn is mm.InPageDevice's: it submits a read of the page at byte
// offset off into frame f for the memory manager's fault handler, in trap
// context, and returns false if the queue has no room now. The service
// routine ends it with mm.InPageDone(tag, status).
//
//go:nosplit
func (d *Disk) StartPageIn(off uint64, f physmem.PFN, tag uint32) bool {
	x := d.ext
	if off%physmem.PageSize != 0 || off >= x.capacity {
		return false
	}
	if !x.submitPageIn(off, f, tag) {
		return false
	}
	x.notify()
	return true
}

// submitPageIn publishes the fault handler's one-page read, false if no
// room.
//
//go:nosplit
func (x *extension) submitPageIn(off uint64, f physmem.PFN, tag uint32) bool {
	frames := [1]physmem.PFN{f}
	x.lock.Acquire()
	ok := x.freeCount >= 3
	if ok {
		x.chain(requestIn, off, frames[:], ownerPageIn|tag)
		x.pageIns++
	}
	x.lock.Release()
	return ok
}

// finish returns request slot r's status and true once it is done,
// freeing the slot and counting the request (pages pages of type typ).
//
//go:nosplit
func (x *extension) finish(r int, typ uint32, pages uint64) (uint8, bool) {
	x.lock.Acquire()
	if !x.reqDone[r] {
		x.lock.Release()
		return 0, false
	}
	s := x.reqStatus[r]
	x.reqBusy[r], x.reqDone[r] = false, false
	switch {
	case s != blkStatusOK:
		x.errors++
	case typ == requestIn:
		x.reads++
		x.pagesRead += pages
	default:
		x.writes++
		x.pagesWritten += pages
	}
	x.lock.Release()
	return s, true
}

// freeChain puts the chain at head back on the free list; the lock is
// held.
//
//go:nosplit
func (x *extension) freeChain(head uint16) {
	i, n := head, uint16(1)
	for x.desc(i).flags&descNext != 0 {
		i = x.desc(i).next
		n++
	}
	x.desc(i).next = x.freeHead
	x.freeHead = head
	x.freeCount += n
}

// harvest takes used chains off the used ring until it meets a page-in's,
// which it returns (its tag and status, true), or the ring is empty. Each
// chain is freed, a goroutine request's status put in its slot. The lock
// is held.
//
//go:nosplit
func (x *extension) harvest() (uint32, uint8, bool) {
	for idx := uint16(atomic.LoadUint32(x.usedWord()) >> 16); x.lastUsed != idx; {
		head := uint16(x.usedRing(x.lastUsed).id)
		x.lastUsed++
		x.completions++
		s := *x.status(head)
		o := x.owner[head]
		x.owner[head] = 0
		x.freeChain(head)
		x.inFlight--
		if o&ownerPageIn != 0 {
			if s != blkStatusOK {
				x.errors++
			} else {
				x.reads++
				x.pagesRead++
			}
			return o &^ ownerPageIn, s, true
		}
		if o != 0 {
			x.reqStatus[o-1], x.reqDone[o-1] = s, true
		}
	}
	return 0, 0, false
}

// serviceDisk is the disk's interrupt service routine; its context is the
// extension. It acknowledges the device, harvests the used ring, ends the
// page-ins there (mm.InPageDone maps the page, kernel.FutexWake wakes the
// faulting thread) with the lock dropped (InPageDone takes the page-table
// lock, which nests outside this one), and wakes the sleepers on room.
// The kernel then wakes the goroutine requesters.
//
//go:nosplit
func serviceDisk(ext uintptr) bool {
	x := (*extension)(pool.Ptr(ext))
	if !x.acknowledge() {
		return false
	}
	for {
		x.lock.Acquire()
		tag, s, pageIn := x.harvest()
		x.lock.Release()
		if !pageIn {
			break
		}
		kernel.FutexWake(inPageDone(tag, blkStatus(s)))
	}
	x.room.Add(1)
	kernel.FutexWake(uintptr(unsafe.Pointer(&x.room)))
	return true
}

// inPageDone is mm.InPageDone, called through a value so that the linker's
// bound on nosplit chains ends at the call (the page-table work below it
// runs on the interrupt's stack, which has room).
var inPageDone = mm.InPageDone

// acknowledge quiets the device's interrupt and reports whether it was
// the device's. virtio-mmio: what InterruptStatus reports (a used buffer,
// a configuration change) is acknowledged in InterruptACK. virtio-pci:
// reading the ISR status byte acknowledges it (4.1.4.5), and an INTx line
// may be shared with other functions. A claim that is not the device's
// would wake its requesters for nothing.
//
//go:nosplit
func (x *extension) acknowledge() bool {
	if x.isrPCI {
		return *(*uint8)(pool.Ptr(x.isrAt))&(interruptUsedBuffer|interruptConfig) != 0
	}
	st := atomic.LoadUint32((*uint32)(pool.Ptr(x.isrAt + regInterruptStatus)))
	st &= interruptUsedBuffer | interruptConfig
	if st == 0 {
		return false
	}
	atomic.StoreUint32((*uint32)(pool.Ptr(x.isrAt+regInterruptACK)), st)
	return true
}

// notify tells the device queue 0 has new available buffers.
//
//go:nosplit
func (x *extension) notify() {
	if x.notifyWide {
		atomic.StoreUint32((*uint32)(pool.Ptr(x.notifyAt)), 0)
	} else {
		*(*uint16)(pool.Ptr(x.notifyAt)) = 0
	}
}

// blkStatus is a request's status byte as an NTSTATUS.
//
//go:nosplit
func blkStatus(s uint8) ntstatus.Status {
	switch s {
	case blkStatusOK:
		return ntstatus.Success
	case blkStatusUnsupp:
		return ntstatus.NotSupported
	}
	return ntstatus.IoDeviceError
}

// counters copies the counters into s under the lock.
//
//go:nosplit
func (x *extension) counters(s *Stats) {
	x.lock.Acquire()
	s.Reads, s.Writes, s.Errors, s.PagesRead, s.PagesWritten = x.reads, x.writes, x.errors, x.pagesRead, x.pagesWritten
	s.InFlight, s.MaxInFlight, s.RoomWaits, s.Completions, s.PageIns = x.inFlight, x.maxInFlight, x.roomWaits, x.completions, x.pageIns
	x.lock.Release()
}
