// Package virtioblk is a virtio 1.x block driver (a split virtqueue), the
// disk the paging file lives on. It implements mm.PagingDevice.
//
// Finding the disk. Probe asks each transport (transport.go) for its
// virtio 1.x block devices: on microvm the virtio-mmio transports QEMU puts
// at fixed addresses (mmio.go), on pc the modern virtio-blk PCI functions
// on bus 0 (pci.go). A transport's registers are mapped with
// mm.MapIoSpace; disks are named virtio0, virtio1, ... in that order. A
// machine with neither has no disk, and the boot says so.
//
// Structure of a disk. One virtqueue (queue 0, the request queue) of n
// descriptors lives in one run of contiguous memory
// (mm.AllocateContiguousMemory) laid out as
//
//	descriptor table   n x 16 bytes  (desc)
//	available ring     4 + 2n + 2    (flags, idx, ring, used_event)
//	used ring          4 + 8n + 2    (flags, idx, ring of usedElem, avail_event)
//	request headers    n x 16 bytes  (one per possible head descriptor)
//	status bytes       n             (one per possible head descriptor)
//
// A request is a descriptor chain: its header (device-readable), one
// descriptor per physically contiguous run of the MDL's frames
// (device-writable for a read), and its status byte (device-writable).
// The header and status of a chain live at the slot of its head
// descriptor, so no other bookkeeping maps a completion to its request.
// Free descriptors form a list through their next fields; a chain is
// taken from its front already linked and given back whole.
//
// Completion. The device raises its interrupt line; the service routine
// (queue_trap.go) acknowledges it in trap context and harvests the used
// ring there: every used chain goes back on the free list, a goroutine
// request's status is copied to its request slot and marked done, and a
// page-in the fault handler started (StartPageIn) is ended at once through
// mm.InPageDone, which maps the page, and kernel.FutexWake, which wakes the
// faulting thread. The kernel then bumps the interrupt's count and wakes the
// goroutine requesters asleep on it (kernel.Interrupt.Wait, a futex); each
// looks at its own slot. Waiting in the requester rather than in a
// completion goroutine (a DPC) saves a second wake-up per request (a
// one-page read took 605 µs through one, 269 µs without, in one
// BenchmarkRawIO run each on a loaded host). Many requests are in flight at
// once, bounded by the descriptors and (for goroutine requests, each
// sleeping on a thread) maxRequests, and nobody polls. A requester that
// finds too few free descriptors, or maxRequests in flight, sleeps on the
// room futex word, which the service routine bumps whenever it frees
// chains.
//
// Locking: the extension's lock, an interrupt-disabling ke.SpinLock taken
// in trap context too (StartPageIn under the memory manager's page-table
// lock, the service routine), guards the free list, the available ring's
// index, the used ring's last-seen index, the owners of chains, the
// request slots and the counters; the queue memory's other slots belong to
// the chain that holds them. Ring indices are published to the device with
// atomic stores (a full barrier on amd64), after the slots they cover are
// written. Code under the lock is nosplit and lives in queue_trap.go.
package virtioblk

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"ntgo/kernel"
	"ntgo/kernel/ldr"
	"ntgo/mm"
	"ntgo/mm/object"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// Device status bits (virtio 1.x, 2.1).
const (
	statusAcknowledge = 1
	statusDriver      = 2
	statusDriverOK    = 4
	statusFeaturesOK  = 8
	statusNeedsReset  = 64
	statusFailed      = 128
)

// Feature bits: VIRTIO_F_VERSION_1 (bit 32, the second feature word's bit
// 0) is the only one this driver asks for; VIRTIO_BLK_F_RO is read to
// refuse writes.
const (
	featureVersion1Word = 1
	featureVersion1Bit  = 1 << 0
	featureBlockRO      = 1 << 5
)

// Interrupt status bits (4.2.2): a used buffer, a configuration change.
const (
	interruptUsedBuffer = 1 << 0
	interruptConfig     = 1 << 1
)

// virtio-blk's configuration (5.2.4) and requests (5.2.6).
const (
	configCapacity = 0 // u64, in 512-byte sectors, in the device configuration
	sectorSize     = 512

	requestIn  = 0 // VIRTIO_BLK_T_IN: read
	requestOut = 1 // VIRTIO_BLK_T_OUT: write

	blkStatusOK     = 0 // VIRTIO_BLK_S_OK
	blkStatusIOErr  = 1 // VIRTIO_BLK_S_IOERR
	blkStatusUnsupp = 2 // VIRTIO_BLK_S_UNSUPP
	// statusPending is what a status byte holds until the device writes it.
	statusPending = 0xFF
)

// Split virtqueue layout (2.7).
const (
	descNext  = 1 // VIRTQ_DESC_F_NEXT
	descWrite = 2 // VIRTQ_DESC_F_WRITE: device-writable

	// maxQueue is the most descriptors a queue gets: QEMU offers 256 for
	// virtio-blk, enough for fourteen 16-page clusters in flight.
	maxQueue = 256
	// maxRequests bounds the requests in flight: each requester sleeps
	// in a futex, on a kernel thread of its own (the Go runtime's M), and
	// the kernel has kernel.maxThreads of them for everything; those
	// beyond wait on room, parked without a thread.
	maxRequests = 32
	// maxRunBytes keeps one descriptor's length within its 32 bits.
	maxRunBytes = 1 << 30
)

type desc struct {
	addr  uint64
	len   uint32
	flags uint16
	next  uint16
}

type usedElem struct {
	id  uint32
	len uint32
}

type requestHeader struct {
	typ    uint32
	_      uint32
	sector uint64
}

// The driver's pool tags and its entry in the loaded-module list.
var (
	tagExtension = pool.MakeTag("VbEx") // the device extensions
	tagIO        = pool.MakeTag("VbIo") // buffers of the disk command and tests
	// Tags are all the driver's tags.
	Tags = []pool.Tag{tagExtension, tagIO}
)

const (
	moduleName    = "virtioblk"
	modulePackage = "ntgo/drivers/virtioblk"
)

// extension is a disk's device extension, in non-paged pool: the device's
// registers, its queue and the counters `disk` prints; no Go pointers.
type extension struct {
	capacity uint64 // bytes
	readOnly bool

	queue     uintptr // contiguous memory: the layout in the package comment
	queueSize uintptr // bytes
	queuePA   uint64
	n         uint16 // descriptors
	availOff  uintptr
	usedOff   uintptr
	headerOff uintptr
	statusOff uintptr

	freeHead  uint16 // free descriptors, linked through next
	freeCount uint16
	availIdx  uint16 // next available-ring slot (free-running)
	lastUsed  uint16 // next used-ring slot to look at (free-running)

	reads, writes, errors   uint64 // requests
	pagesRead, pagesWritten uint64
	inFlight, maxInFlight   uint64
	roomWaits               uint64 // requests that waited for descriptors
	completions             uint64
	pageIns                 uint64 // reads started by the fault handler

	// Where the service routine and StartPageIn find the device.
	isrAt      uintptr // virtio-mmio: the registers; virtio-pci: the ISR status byte
	isrPCI     bool
	notifyAt   uintptr // queue 0's notification register
	notifyWide bool    // a 32-bit register (virtio-mmio), else 16 (virtio-pci)

	lock ke.SpinLock
	// owner[head] is who waits for the chain at head: 0 none, a request
	// slot + 1, or ownerPageIn | the memory manager's tag.
	owner [maxQueue]uint32
	// Goroutine requests' slots: busy, done (the chain was used), status.
	reqBusy   [maxRequests]bool
	reqDone   [maxRequests]bool
	reqStatus [maxRequests]uint8
	// room is a futex word bumped whenever chains are freed.
	room atomic.Uint32
}

// Disk is one virtio block device.
type Disk struct {
	name string
	t    transport
	ext  *extension
	irq  *kernel.Interrupt
}

// The disks Probe found, in address order, and whether it ran.
var (
	probeOnce sync.Once
	disks     []*Disk
	probeErr  error
)

// Probe is DriverEntry: it finds and starts every virtio block device
// (once; later calls return the first call's answer), registers the
// driver in the loaded-module list and returns the disks.
func Probe() ([]*Disk, error) {
	probeOnce.Do(func() {
		if st := ldr.Load(ldr.Module{Name: moduleName, Package: modulePackage, Tags: Tags}); st.IsError() {
			probeErr = fmt.Errorf("virtioblk: %v", st)
			return
		}
		found, err := findTransports()
		if err != nil {
			probeErr = err
			return
		}
		for _, t := range found {
			d, err := start(t, len(disks))
			if err != nil {
				probeErr = err
				return
			}
			disks = append(disks, d)
		}
	})
	return disks, probeErr
}

// start makes the disk behind transport t virtio<index>, or releases t.
func start(t transport, index int) (*Disk, error) {
	x := object.New[extension](pool.NonPagedPool, tagExtension)
	if x == nil {
		t.release()
		return nil, fmt.Errorf("virtioblk: %v", ntstatus.InsufficientResources)
	}
	d := &Disk{name: fmt.Sprintf("virtio%d", index), t: t, ext: x}
	if err := d.start(); err != nil {
		t.setStatus(statusFailed)
		if x.queue != 0 {
			mm.FreeContiguousMemory(pool.Ptr(x.queue))
		}
		t.release()
		object.DeleteWithTag(x, tagExtension)
		return nil, fmt.Errorf("virtioblk: %s (%s): %w", d.name, t.location(), err)
	}
	return d, nil
}

// start runs the driver side of device initialization (virtio 1.x, 3.1.1):
// reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, the queue, the
// interrupt, DRIVER_OK.
func (d *Disk) start() error {
	x, t := d.ext, d.t
	t.setStatus(0)
	t.setStatus(statusAcknowledge)
	t.setStatus(statusAcknowledge | statusDriver)
	low := t.deviceFeatures(0)
	if t.deviceFeatures(featureVersion1Word)&featureVersion1Bit == 0 {
		return fmt.Errorf("the device does not offer VIRTIO_F_VERSION_1")
	}
	x.readOnly = low&featureBlockRO != 0
	t.setDriverFeatures(0, 0)
	t.setDriverFeatures(featureVersion1Word, featureVersion1Bit)
	t.setStatus(statusAcknowledge | statusDriver | statusFeaturesOK)
	if t.status()&statusFeaturesOK == 0 {
		return fmt.Errorf("the device refused the features (FEATURES_OK cleared)")
	}
	x.capacity = d.readCapacity() * sectorSize &^ physmem.PageMask

	max, inUse := t.queue0()
	switch {
	case inUse:
		return fmt.Errorf("queue 0 already in use")
	case max == 0:
		return fmt.Errorf("no queue 0")
	}
	x.n = uint16(min(max, maxQueue))
	if err := d.allocateQueue(); err != nil {
		return err
	}
	t.setQueue0(x.n, x.queuePA, x.queuePA+uint64(x.availOff), x.queuePA+uint64(x.usedOff))

	x.isrAt, x.isrPCI = t.interruptStatus()
	x.notifyAt, x.notifyWide = t.notifyRegister()
	irq, st := kernel.IoConnectInterrupt(t.gsi(), serviceDisk, uintptr(unsafe.Pointer(x)))
	if st != ntstatus.Success {
		return fmt.Errorf("interrupt GSI %d: %v", t.gsi(), st)
	}
	d.irq = irq
	t.setStatus(statusAcknowledge | statusDriver | statusFeaturesOK | statusDriverOK)
	if s := t.status(); s&(statusNeedsReset|statusFailed) != 0 {
		return fmt.Errorf("device status %#x after DRIVER_OK", s)
	}
	return nil
}

// readCapacity reads the 64-bit capacity as two 32-bit halves, again if
// the configuration generation moved between them (4.2.2.2, 4.1.4.3.1).
func (d *Disk) readCapacity() uint64 {
	t := d.t
	for {
		g := t.generation()
		c := uint64(t.config32(configCapacity)) | uint64(t.config32(configCapacity+4))<<32
		if t.generation() == g {
			return c
		}
	}
}

// allocateQueue lays the queue out (package comment) in contiguous memory
// and threads every descriptor onto the free list.
func (d *Disk) allocateQueue() error {
	x := d.ext
	n := uintptr(x.n)
	x.availOff = n * unsafe.Sizeof(desc{})
	x.usedOff = (x.availOff + 4 + 2*n + 2 + 3) &^ 3
	x.headerOff = (x.usedOff + 4 + 8*n + 2 + 15) &^ 15
	x.statusOff = x.headerOff + n*unsafe.Sizeof(requestHeader{})
	x.queueSize = x.statusOff + n
	q := mm.AllocateContiguousMemory(x.queueSize, mm.MaxPhysicalAddress)
	if q == nil {
		return fmt.Errorf("queue memory: %v", ntstatus.InsufficientResources)
	}
	x.queue = uintptr(q)
	x.queuePA = mm.GetPhysicalAddress(x.queue)
	for i := range x.n {
		x.desc(i).next = i + 1
	}
	x.freeHead, x.freeCount = 0, x.n
	return nil
}

// Name is the disk's name ("virtio0").
func (d *Disk) Name() string { return d.name }

// Size is the disk's capacity in bytes, whole pages.
func (d *Disk) Size() uint64 { return d.ext.capacity }

// ReadPages fills the MDL's pages from the disk at byte offset off.
func (d *Disk) ReadPages(off uint64, m *mm.Mdl) ntstatus.Status {
	return d.transfer(requestIn, off, m)
}

// WritePages writes the MDL's pages to the disk at byte offset off.
func (d *Disk) WritePages(off uint64, m *mm.Mdl) ntstatus.Status {
	return d.transfer(requestOut, off, m)
}

var _ mm.PagingDevice = (*Disk)(nil)

// transfer runs one request and waits for its completion. The MDL must
// describe whole pages whose frames are in its PFN array: locked, of
// non-paged memory, or a partial MDL of either.
func (d *Disk) transfer(typ uint32, off uint64, m *mm.Mdl) ntstatus.Status {
	x := d.ext
	if m == nil || m.ByteOffset != 0 || m.ByteCount == 0 || m.ByteCount%physmem.PageSize != 0 ||
		m.MdlFlags&(mm.MdlPagesLocked|mm.MdlSourceIsNonpagedPool|mm.MdlPartial) == 0 ||
		off%physmem.PageSize != 0 || off > x.capacity || uint64(m.ByteCount) > x.capacity-off {
		return ntstatus.InvalidParameter
	}
	if typ == requestOut && x.readOnly {
		return ntstatus.InvalidDeviceRequest
	}
	frames := m.Pages()
	if runs(frames)+2 > int(x.n) {
		return ntstatus.InvalidParameter
	}
	r := -1
	for waited := false; ; waited = true {
		room := x.room.Load()
		if r = x.submit(typ, off, frames, waited); r >= 0 {
			break
		}
		futexWait(&x.room, room)
	}
	x.notify()
	for {
		// The count is read before the slot: an interrupt after this read
		// ends the Wait below, one before it has marked the slot.
		seen := d.irq.Count()
		if s, done := x.finish(r, typ, uint64(m.ByteCount/physmem.PageSize)); done {
			return blkStatus(s)
		}
		d.irq.Wait(seen)
	}
}

var _ mm.InPageDevice = (*Disk)(nil)

// futexWait sleeps while the word at w holds v.
func futexWait(w *atomic.Uint32, v uint32) {
	syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWaitPrivate, uintptr(v), 0, 0, 0)
}

// wakeRoom bumps the room word and wakes its sleepers, from a goroutine
// (the service routine has its own, queue_trap.go).
func (x *extension) wakeRoom() {
	x.room.Add(1)
	syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&x.room)), futexWakePrivate, 1<<30, 0, 0, 0)
}

// Linux futex operations (linux/futex.h), private to the process.
const (
	futexWaitPrivate = 0 | 128
	futexWakePrivate = 1 | 128
)

// Stats are a disk's counters, as `disk` prints them.
type Stats struct {
	Name                    string
	Location                string
	GSI, Vector             uint32
	Capacity                uint64
	ReadOnly                bool
	QueueSize               uint16
	Reads, Writes, Errors   uint64
	PagesRead, PagesWritten uint64
	InFlight, MaxInFlight   uint64
	RoomWaits               uint64
	Completions, Interrupts uint64
	PageIns                 uint64
}

// Stats returns the disk's counters.
func (d *Disk) Stats() Stats {
	x := d.ext
	s := Stats{Name: d.name, Location: d.t.location(), GSI: d.t.gsi(), Vector: d.irq.Vector(), Capacity: x.capacity, ReadOnly: x.readOnly,
		QueueSize: x.n, Interrupts: uint64(d.irq.Count())}
	x.counters(&s)
	return s
}
