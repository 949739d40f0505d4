// Package ramdisk is a sample driver: a sparse RAM disk served through a
// request queue, written the way an NT driver is, with the toolkit's
// pieces.
//
// Structure. Load (DriverEntry) allocates the device extension with
// object.New; it holds everything else and no Go pointers:
//
//   - requests: a typed lookaside list (object.Lookaside) of request
//     packets, the IRPs of this driver;
//   - queue: a LIST_ENTRY head of requests waiting to be served;
//   - extents: a LIST_ENTRY head of the disk's allocated extents, each an
//     object from object.New holding one extentSize buffer from pool;
//     regions never written have no extent and read as zeros.
//
// A read or write takes a request from the lookaside list, copies the
// caller's data into (or out of) a bounce buffer from nonpaged pool under
// tagIO, queues the request and runs the queue; completion frees the
// buffer and returns the packet to the list. Every allocation carries one
// of the driver's tags, so Unload (DriverUnload) can free what it owns and
// then ask the pool which of its tags still have allocations outstanding:
// the leak check. Leak exists to make one on purpose.
//
// Locking: the extension's mutex guards the queue, the extents and the
// counters; Disk methods take it, so they may be called concurrently.
//
// IRQL: every routine here is pageable in NT's sense (it takes a mutex
// and allocates from the pools at PASSIVE_LEVEL), so each entry point
// starts with PAGED_CODE (ke.PagedCode), which stops a caller at
// DISPATCH_LEVEL or above even though Go's code is never paged.
package ramdisk

import (
	"sync"
	"unsafe"

	"ntgo/mm/ex"
	"ntgo/mm/object"
	"ntgo/mm/pool"
	"ntgo/nt/ke"
	"ntgo/nt/list"
	"ntgo/nt/ntstatus"
	"ntgo/nt/rtl"
)

// The driver's pool tags.
var (
	tagExtension = pool.MakeTag("RdEx") // the device extension
	tagRequest   = pool.MakeTag("RdRq") // request packets (lookaside list)
	tagExtent    = pool.MakeTag("RdXt") // extent objects
	tagData      = pool.MakeTag("RdDt") // extent data buffers
	tagIO        = pool.MakeTag("RdIo") // bounce buffers of requests in flight
)

// Tags are all the driver's tags, for the leak check.
var Tags = []pool.Tag{tagExtension, tagRequest, tagExtent, tagData, tagIO}

// extentSize is the unit the disk allocates its storage in: one page.
const extentSize = 4096

// operation is what a request asks for.
type operation uint8

const (
	opRead operation = iota
	opWrite
)

// request is a request packet.
type request struct {
	Link   list.ListEntry
	op     operation
	offset uintptr
	length uintptr
	buffer uintptr // bounce buffer in nonpaged pool
	status ntstatus.Status
}

var requestLinkOffset = unsafe.Offsetof(request{}.Link)

// extent is one allocated piece of the disk.
type extent struct {
	Link   list.ListEntry
	offset uintptr // multiple of extentSize
	data   uintptr // extentSize bytes from pool, tagData
}

var extentLinkOffset = unsafe.Offsetof(extent{}.Link)

// extension is the device extension.
type extension struct {
	mu                  sync.Mutex
	size                uintptr
	requests            object.Lookaside[request]
	queue               list.ListEntry
	extents             list.ListEntry
	extentCount         uint64
	reads, writes, errs uint64
}

// Disk is a loaded ramdisk.
type Disk struct {
	ext *extension
}

// MaxSize is the largest disk Load makes. Storage is allocated as it is
// written, so the bound is not memory: it keeps the rounding to whole
// extents and every offset arithmetic far from overflow.
const MaxSize = 1 << 40

// Load is DriverEntry: a disk of size bytes (rounded up to whole extents),
// 1 to MaxSize.
func Load(size uintptr) (*Disk, ntstatus.Status) {
	ke.PagedCode()
	if size == 0 || size > MaxSize {
		return nil, ntstatus.InvalidParameter
	}
	x := object.New[extension](pool.NonPagedPool, tagExtension)
	if x == nil {
		return nil, ntstatus.InsufficientResources
	}
	x.size = (size + extentSize - 1) &^ (extentSize - 1)
	if st := x.requests.Init(pool.NonPagedPool, 0, tagRequest); st != ntstatus.Success {
		object.Delete(x)
		return nil, st
	}
	list.InitializeListHead(&x.queue)
	list.InitializeListHead(&x.extents)
	return &Disk{ext: x}, ntstatus.Success
}

// Unload is DriverUnload: it frees the disk and reports the driver's tags
// that still have allocations outstanding (none, unless something leaked).
func (d *Disk) Unload() []pool.TagStat {
	ke.PagedCode()
	x := d.ext
	x.mu.Lock()
	for !list.IsListEmpty(&x.extents) {
		xt := list.ContainingRecord[extent](list.RemoveHeadList(&x.extents), extentLinkOffset)
		ex.FreePoolWithTag(pool.Ptr(xt.data), tagData)
		object.DeleteWithTag(xt, tagExtent)
	}
	x.requests.Delete()
	x.mu.Unlock()
	object.DeleteWithTag(x, tagExtension)
	d.ext = nil
	return ex.Pools().Leaks(Tags...)
}

// Write writes data at offset off.
func (d *Disk) Write(off uintptr, data []byte) ntstatus.Status {
	ke.PagedCode()
	return d.submit(opWrite, off, uintptr(len(data)), func(buf unsafe.Pointer) {
		rtl.CopyMemory(buf, unsafe.Pointer(unsafe.SliceData(data)), uintptr(len(data)))
	}, nil)
}

// Read reads n bytes at offset off. The result is allocated once the
// request is known to lie within the disk.
func (d *Disk) Read(off, n uintptr) ([]byte, ntstatus.Status) {
	ke.PagedCode()
	var out []byte
	st := d.submit(opRead, off, n, nil, func(buf unsafe.Pointer) {
		out = make([]byte, n)
		rtl.CopyMemory(unsafe.Pointer(unsafe.SliceData(out)), buf, n)
	})
	if st != ntstatus.Success {
		return nil, st
	}
	return out, st
}

// submit runs one request: packet and bounce buffer in, queue, serve,
// complete. fill prepares the buffer of a write, drain consumes that of a
// read.
func (d *Disk) submit(op operation, off, n uintptr, fill, drain func(unsafe.Pointer)) ntstatus.Status {
	x := d.ext
	if n == 0 {
		return ntstatus.Success
	}
	if off+n < off || off+n > x.size {
		x.mu.Lock()
		x.errs++
		x.mu.Unlock()
		return ntstatus.InvalidParameter
	}
	buf := AllocateBuffer(n, pool.NormalPoolPriority)
	if buf == nil {
		return ntstatus.InsufficientResources
	}
	if fill != nil {
		fill(buf)
	}
	x.mu.Lock()
	r := x.requests.Allocate()
	if r == nil {
		x.mu.Unlock()
		FreeBuffer(buf)
		return ntstatus.InsufficientResources
	}
	r.op, r.offset, r.length, r.buffer = op, off, n, uintptr(buf)
	list.InsertTailList(&x.queue, &r.Link)
	x.serveQueue()
	st := r.status
	x.requests.Free(r)
	x.mu.Unlock()
	if drain != nil && st == ntstatus.Success {
		drain(buf)
	}
	FreeBuffer(buf)
	return st
}

// AllocateBuffer is a transfer buffer of n bytes from the driver's
// nonpaged pool (tagIO) at priority prio, the bounce buffer of its own
// requests and a routine it exports to the drivers above it (notmyfault's
// special-pool cases): the allocation is the ramdisk's, which Driver
// Verifier attributes by the code that makes it, so the routine is never
// inlined into a caller.
//
//go:noinline
func AllocateBuffer(n uintptr, prio pool.Priority) unsafe.Pointer {
	return ex.AllocatePoolWithTagPriority(pool.NonPagedPool, n, tagIO, prio)
}

// FreeBuffer frees a buffer from AllocateBuffer.
//
//go:noinline
func FreeBuffer(p unsafe.Pointer) { ex.FreePoolWithTag(p, tagIO) }

// serveQueue serves every queued request. The lock is held.
func (x *extension) serveQueue() {
	for !list.IsListEmpty(&x.queue) {
		r := list.ContainingRecord[request](list.RemoveHeadList(&x.queue), requestLinkOffset)
		r.status = x.serve(r)
	}
}

// serve moves a request's bytes between its buffer and the extents.
func (x *extension) serve(r *request) ntstatus.Status {
	for done := uintptr(0); done < r.length; {
		pos := r.offset + done
		base := pos &^ (extentSize - 1)
		within := pos - base
		chunk := min(extentSize-within, r.length-done)
		buf := pool.Ptr(r.buffer + done)
		xt := x.find(base)
		switch {
		case r.op == opWrite:
			if xt == nil {
				if xt = x.grow(base); xt == nil {
					return ntstatus.InsufficientResources
				}
			}
			rtl.CopyMemory(pool.Ptr(xt.data+within), buf, chunk)
		case xt == nil:
			rtl.ZeroMemory(buf, chunk) // never written: zeros
		default:
			rtl.CopyMemory(buf, pool.Ptr(xt.data+within), chunk)
		}
		done += chunk
	}
	if r.op == opWrite {
		x.writes++
	} else {
		x.reads++
	}
	return ntstatus.Success
}

// find is the extent at base, or nil.
func (x *extension) find(base uintptr) *extent {
	for e := x.extents.Next(); e != &x.extents; e = e.Next() {
		if xt := list.ContainingRecord[extent](e, extentLinkOffset); xt.offset == base {
			return xt
		}
	}
	return nil
}

// grow allocates the zeroed extent at base.
func (x *extension) grow(base uintptr) *extent {
	data := ex.AllocatePoolZero(pool.NonPagedPool, extentSize, tagData)
	if data == nil {
		return nil
	}
	xt := object.New[extent](pool.NonPagedPool, tagExtent)
	if xt == nil {
		ex.FreePoolWithTag(data, tagData)
		return nil
	}
	xt.offset, xt.data = base, uintptr(data)
	list.InsertTailList(&x.extents, &xt.Link)
	x.extentCount++
	return xt
}

// Leak allocates n bytes under the driver's data tag and forgets them, so
// that Unload's leak check has something to find.
func (d *Disk) Leak(n uintptr) bool {
	ke.PagedCode()
	return ex.AllocatePoolWithTag(pool.NonPagedPool, n, tagData) != nil
}

// Stats are a disk's counters.
type Stats struct {
	Size, Extents                uintptr
	Reads, Writes, Errors        uint64
	Requests                     ex.LookasideInfo // the request lookaside list
	BytesByTag                   map[pool.Tag]int64
	AllocatedBytes, StorageBytes uintptr
}

// Stat is the disk's counters, its request list's and its pool usage.
func (d *Disk) Stat() Stats {
	ke.PagedCode()
	x := d.ext
	x.mu.Lock()
	s := Stats{Size: x.size, Extents: uintptr(x.extentCount), Reads: x.reads, Writes: x.writes, Errors: x.errs,
		StorageBytes: uintptr(x.extentCount) * extentSize, BytesByTag: map[pool.Tag]int64{}}
	x.mu.Unlock()
	for _, l := range ex.Lookasides() {
		if l.Address == uintptr(unsafe.Pointer(&x.requests)) {
			s.Requests = l
		}
	}
	for _, tag := range Tags {
		if st, ok := ex.Pools().PoolUsed(tag); ok {
			s.BytesByTag[tag] = st.Bytes()
			s.AllocatedBytes += uintptr(st.Bytes())
		}
	}
	return s
}
