package mm

import (
	"ntgo/mm/physmem"
	"ntgo/nt/ntstatus"
)

// PagingDevice is a block device that holds a paging file: the seam between
// the memory manager's page-file code and a disk driver in drivers/, which
// sits above mm and registers its device with AddPagingFile at load.
//
// Transfers move whole pages between the device and the frames an MDL
// describes (locked, in the MDL's PFN array). They are synchronous for the
// caller: its goroutine sleeps until the device's completion interrupt, so
// they must be called at PASSIVE_LEVEL, never at DISPATCH_LEVEL or above.
// A failed transfer returns a failure status (STATUS_DEVICE_DATA_ERROR,
// STATUS_IO_DEVICE_ERROR, ...) and changes nothing the caller owns.
type PagingDevice interface {
	// Name is how the boot line and !vm name the device ("virtio0").
	Name() string
	// Size is the device's capacity in bytes, a multiple of the page size.
	Size() uint64
	// ReadPages fills the MDL's pages from the device starting at byte
	// offset off (page aligned).
	ReadPages(off uint64, m *Mdl) ntstatus.Status
	// WritePages writes the MDL's pages to the device starting at byte
	// offset off (page aligned).
	WritePages(off uint64, m *Mdl) ntstatus.Status
}

// InPageDevice is a PagingDevice that can also start a one-page read from
// the page-fault handler, so that a hard fault in code that cannot yield
// (the runtime's memmove under `copy`, assembly) waits in its thread for
// the interrupt instead of for a goroutine.
type InPageDevice interface {
	PagingDevice
	// StartPageIn submits a read of the page at byte offset off into
	// frame f and returns false if the device has no room now. It runs in
	// trap context (//go:nosplit, no allocation, interrupts off, the
	// page-table lock held) and takes only the driver's own
	// interrupt-disabling lock. When the read ends, the driver's interrupt
	// service routine calls InPageDone(tag, status) with none of its own
	// locks held and wakes the futex word InPageDone returns.
	StartPageIn(off uint64, f physmem.PFN, tag uint32) bool
}
