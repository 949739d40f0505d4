// The virtio-mmio transport (virtio 1.x, 4.2): where microvm puts its
// devices and how their registers are laid out.

package virtioblk

import (
	"fmt"
	"sync/atomic"

	"ntgo/mm"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
)

// Where microvm puts its virtio-mmio transports (hw/i386/microvm.c:
// VIRTIO_MMIO_BASE, 512 bytes apart, GSI IO_APIC_SECONDARY_IRQBASE + i).
const (
	transportBase   = 0xFEB00000
	transportStride = 0x200
	transports      = 24
	gsiBase         = 24
)

// The virtio-mmio register map (virtio 1.x, 4.2.2), offsets in bytes.
const (
	regMagic             = 0x000 // "virt"
	regVersion           = 0x004 // 2: the virtio 1.x layout
	regDeviceID          = 0x008 // 2: block device; 0: no device here
	regVendorID          = 0x00C
	regDeviceFeatures    = 0x010
	regDeviceFeaturesSel = 0x014
	regDriverFeatures    = 0x020
	regDriverFeaturesSel = 0x024
	regQueueSel          = 0x030
	regQueueNumMax       = 0x034
	regQueueNum          = 0x038
	regQueueReady        = 0x044
	regQueueNotify       = 0x050
	regInterruptStatus   = 0x060
	regInterruptACK      = 0x064
	regStatus            = 0x070
	regQueueDescLow      = 0x080
	regQueueDescHigh     = 0x084
	regQueueDriverLow    = 0x090 // the available ring
	regQueueDriverHigh   = 0x094
	regQueueDeviceLow    = 0x0A0 // the used ring
	regQueueDeviceHigh   = 0x0A4
	regConfigGeneration  = 0x0FC
	regConfig            = 0x100 // device-specific configuration

	magicValue     = 0x74726976
	mmioVersion    = 2
	legacyVersion  = 1 // virtio 0.9.5's layout, microvm's default
	deviceIDBlock  = 2 // the virtio device ID of a block device
	registerWindow = transportStride
)

// mmioTransport is one virtio-mmio device: its mapped register window.
type mmioTransport struct {
	regs  uintptr
	phys  uint64
	index int
}

// findMMIO maps each of microvm's transports in turn and keeps the ones
// with a virtio 1.x block device behind them.
func findMMIO() ([]transport, error) {
	var found []transport
	for i := range transports {
		pa := uint64(transportBase + i*transportStride)
		regs := mm.MapIoSpace(pa, registerWindow, pte.NonCached)
		if regs == 0 {
			return found, fmt.Errorf("virtioblk: no system PTEs for the registers at %#x", pa)
		}
		magic, version, id := load32(regs, regMagic), load32(regs, regVersion), load32(regs, regDeviceID)
		if magic == magicValue && id == deviceIDBlock && version == mmioVersion {
			found = append(found, &mmioTransport{regs: regs, phys: pa, index: i})
			continue
		}
		mm.UnmapIoSpace(regs, registerWindow)
		if magic == magicValue && id == deviceIDBlock && version == legacyVersion {
			fmt.Printf("virtioblk: legacy virtio-mmio disk at %#x ignored (QEMU: -global virtio-mmio.force-legacy=false)\n", pa)
		}
	}
	return found, nil
}

func (m *mmioTransport) deviceFeatures(word uint32) uint32 {
	store32(m.regs, regDeviceFeaturesSel, word)
	return load32(m.regs, regDeviceFeatures)
}

func (m *mmioTransport) setDriverFeatures(word, v uint32) {
	store32(m.regs, regDriverFeaturesSel, word)
	store32(m.regs, regDriverFeatures, v)
}

func (m *mmioTransport) status() uint32     { return load32(m.regs, regStatus) }
func (m *mmioTransport) setStatus(v uint32) { store32(m.regs, regStatus, v) }
func (m *mmioTransport) generation() uint32 { return load32(m.regs, regConfigGeneration) }

func (m *mmioTransport) config32(off uintptr) uint32 { return load32(m.regs, regConfig+off) }

func (m *mmioTransport) queue0() (uint32, bool) {
	store32(m.regs, regQueueSel, 0)
	return load32(m.regs, regQueueNumMax), load32(m.regs, regQueueReady) != 0
}

func (m *mmioTransport) setQueue0(n uint16, desc, driver, device uint64) {
	store32(m.regs, regQueueNum, uint32(n))
	store64(m.regs, regQueueDescLow, regQueueDescHigh, desc)
	store64(m.regs, regQueueDriverLow, regQueueDriverHigh, driver)
	store64(m.regs, regQueueDeviceLow, regQueueDeviceHigh, device)
	store32(m.regs, regQueueReady, 1)
}

func (m *mmioTransport) notifyRegister() (uintptr, bool) { return m.regs + regQueueNotify, true }

func (m *mmioTransport) interruptStatus() (uintptr, bool) { return m.regs, false }

func (m *mmioTransport) gsi() uint32 { return uint32(gsiBase + m.index) }

func (m *mmioTransport) location() string { return fmt.Sprintf("virtio-mmio at %#x", m.phys) }

func (m *mmioTransport) release() { mm.UnmapIoSpace(m.regs, registerWindow) }

func load32(regs, off uintptr) uint32 { return atomic.LoadUint32((*uint32)(pool.Ptr(regs + off))) }

func store32(regs, off uintptr, v uint32) { atomic.StoreUint32((*uint32)(pool.Ptr(regs+off)), v) }

func store64(regs, low, high uintptr, v uint64) {
	store32(regs, low, uint32(v))
	store32(regs, high, uint32(v>>32))
}

// The narrow register accesses of virtio-pci's common configuration. Each
// is its own call, so that the compiler neither drops nor merges them.

//go:noinline
func load8(addr uintptr) uint8 { return *(*uint8)(pool.Ptr(addr)) }

//go:noinline
func store8(addr uintptr, v uint8) { *(*uint8)(pool.Ptr(addr)) = v }

//go:noinline
func load16(addr uintptr) uint16 { return *(*uint16)(pool.Ptr(addr)) }

//go:noinline
func store16(addr uintptr, v uint16) { *(*uint16)(pool.Ptr(addr)) = v }
