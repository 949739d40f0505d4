// The transports a virtio device sits behind: virtio-mmio on microvm
// (mmio.go), virtio-pci on pc (pci.go). The disk's start-up and requests
// (virtioblk.go) see only this interface; the two differ in where the
// registers are, how the queue is set up and notified, and how the
// interrupt is quieted.

package virtioblk

type transport interface {
	deviceFeatures(word uint32) uint32 // feature bits 32*word..32*word+31
	setDriverFeatures(word, v uint32)
	status() uint32
	setStatus(v uint32)
	generation() uint32          // the configuration generation
	config32(off uintptr) uint32 // the device configuration
	queue0() (max uint32, inUse bool)
	setQueue0(n uint16, desc, driver, device uint64) // and enable it
	// notifyRegister is queue 0's notification register and whether it
	// is 32 bits wide (else 16).
	notifyRegister() (addr uintptr, wide bool)
	// interruptStatus is where the service routine reads the interrupt's
	// cause: virtio-mmio's registers, or virtio-pci's ISR status byte (pci).
	interruptStatus() (addr uintptr, pci bool)
	gsi() uint32
	location() string // for the boot line and `disk`
	release()         // unmap the registers
}

// findTransports returns every virtio 1.x block device's transport, the
// virtio-mmio ones first.
func findTransports() ([]transport, error) {
	found, err := findMMIO()
	if err != nil {
		return found, err
	}
	pci, err := findPCI()
	return append(found, pci...), err
}
