// The virtio-pci transport (virtio 1.x, 4.1) of a "modern" virtio-blk PCI
// function, as QEMU's -machine pc has them (virtio-blk-pci with
// disable-legacy=on): bus 0 is scanned through the configuration
// mechanism #1 ports, the function's vendor capabilities say which BAR
// ranges hold the common configuration, the notification area, the ISR
// status byte and the device configuration, and each range is mapped with
// mm.MapIoSpace. The interrupt is the function's INTx line, which the
// firmware routed to the ISA IRQ its Interrupt Line register names (GSI
// of the same number on the first I/O APIC); reading the ISR status byte
// acknowledges it. IoConnectInterrupt programs the line edge-triggered:
// INTx is a level, up while the ISR status has a bit set and down once the
// service routine has read it, so each completion after that read makes a
// new rising edge, and one before it is harvested with the others.

package virtioblk

import (
	"fmt"

	"ntgo/mm"
	"ntgo/mm/pte"
	"ntgo/nt/arch"
)

// PCI configuration space (PCI Local Bus 3.0, 6.1) through mechanism #1.
const (
	pciConfigAddress = 0xCF8
	pciConfigData    = 0xCFC
	pciEnable        = 1 << 31
	pciDevices       = 32 // on bus 0; ntgo looks at function 0 only

	pciVendorDevice = 0x00
	pciCommand      = 0x04 // low half of the command/status word
	pciStatusShift  = 16
	pciBAR0         = 0x10
	pciCapPointer   = 0x34
	pciInterrupt    = 0x3C // interrupt line (byte 0) and pin (byte 1)

	pciCommandMemory    = 1 << 1
	pciCommandBusMaster = 1 << 2
	pciCommandNoINTx    = 1 << 10
	pciStatusCapList    = 1 << 4

	pciBARIO     = 1 << 0
	pciBARType   = 3 << 1
	pciBARType64 = 2 << 1
	pciBARMask   = 0xF

	virtioVendor      = 0x1AF4
	virtioBlockModern = 0x1040 + deviceIDBlock
)

// The virtio PCI capability (4.1.4): cap_vndr 9, then cfg_type, bar,
// offset and length; the notification capability adds its multiplier.
const (
	capVendor         = 0x09
	capNext           = 1
	capCfgType        = 3
	capBAR            = 4
	capOffset         = 8
	capLength         = 12
	capNotifyMultiple = 16

	cfgCommon = 1
	cfgNotify = 2
	cfgISR    = 3
	cfgDevice = 4
)

// The common configuration structure (4.1.4.3), offsets in bytes.
const (
	commonDeviceFeatureSelect = 0x00 // u32
	commonDeviceFeature       = 0x04 // u32
	commonDriverFeatureSelect = 0x08 // u32
	commonDriverFeature       = 0x0C // u32
	commonDeviceStatus        = 0x14 // u8
	commonConfigGeneration    = 0x15 // u8
	commonQueueSelect         = 0x16 // u16
	commonQueueSize           = 0x18 // u16
	commonQueueEnable         = 0x1C // u16
	commonQueueNotifyOff      = 0x1E // u16
	commonQueueDesc           = 0x20 // u64
	commonQueueDriver         = 0x28 // u64
	commonQueueDevice         = 0x30 // u64
)

func pciRead(dev int, off uint32) uint32 {
	arch.Out32(pciConfigAddress, pciEnable|uint32(dev)<<11|off&^3)
	return arch.In32(pciConfigData)
}

func pciWrite(dev int, off, v uint32) {
	arch.Out32(pciConfigAddress, pciEnable|uint32(dev)<<11|off&^3)
	arch.Out32(pciConfigData, v)
}

// pciRange is a mapped part of a BAR that a capability names.
type pciRange struct {
	va   uintptr
	size uintptr
}

// pciTransport is one virtio-pci function on bus 0.
type pciTransport struct {
	dev                         int
	line                        uint32
	common, notifyArea, isr, dv pciRange
	notifyMultiplier            uint32
	notifyAt                    uintptr // queue 0's notification address
}

// findPCI scans bus 0 for modern virtio block functions.
func findPCI() ([]transport, error) {
	var found []transport
	for dev := range pciDevices {
		if pciRead(dev, pciVendorDevice) != virtioBlockModern<<16|virtioVendor {
			continue
		}
		p, err := newPCI(dev)
		if err != nil {
			return found, fmt.Errorf("virtioblk: virtio-pci 00:%02x.0: %w", dev, err)
		}
		found = append(found, p)
	}
	return found, nil
}

func newPCI(dev int) (*pciTransport, error) {
	p := &pciTransport{dev: dev, line: pciRead(dev, pciInterrupt) & 0xFF}
	if pciRead(dev, pciCommand)>>pciStatusShift&pciStatusCapList == 0 {
		return nil, fmt.Errorf("no capability list")
	}
	for c := pciRead(dev, pciCapPointer) & 0xFC; c != 0; c = pciRead(dev, c) >> (8 * capNext) & 0xFC {
		head := pciRead(dev, c)
		if head&0xFF != capVendor {
			continue
		}
		var r *pciRange
		switch head >> (8 * capCfgType) & 0xFF {
		case cfgCommon:
			r = &p.common
		case cfgNotify:
			r = &p.notifyArea
			p.notifyMultiplier = pciRead(dev, c+capNotifyMultiple)
		case cfgISR:
			r = &p.isr
		case cfgDevice:
			r = &p.dv
		}
		if r == nil || r.va != 0 {
			continue // another kind, or a second one of a kind: the first wins (4.1.4)
		}
		bar := pciRead(dev, c+capBAR) & 0xFF
		base, err := pciBAR(dev, bar)
		if err != nil {
			p.release()
			return nil, err
		}
		r.size = uintptr(pciRead(dev, c+capLength))
		if r.va = mm.MapIoSpace(base+uint64(pciRead(dev, c+capOffset)), r.size, pte.NonCached); r.va == 0 {
			p.release()
			return nil, fmt.Errorf("no system PTEs for BAR %d", bar)
		}
	}
	if p.common.va == 0 || p.notifyArea.va == 0 || p.isr.va == 0 || p.dv.va == 0 {
		p.release()
		return nil, fmt.Errorf("a virtio capability is missing")
	}
	cmd := pciRead(dev, pciCommand) & 0xFFFF
	pciWrite(dev, pciCommand, (cmd|pciCommandMemory|pciCommandBusMaster)&^pciCommandNoINTx)
	return p, nil
}

// pciBAR is the memory address BAR bar decodes.
func pciBAR(dev int, bar uint32) (uint64, error) {
	if bar > 5 {
		return 0, fmt.Errorf("BAR %d", bar)
	}
	low := pciRead(dev, pciBAR0+4*bar)
	if low&pciBARIO != 0 {
		return 0, fmt.Errorf("BAR %d is I/O space", bar)
	}
	base := uint64(low &^ pciBARMask)
	if low&pciBARType == pciBARType64 {
		base |= uint64(pciRead(dev, pciBAR0+4*(bar+1))) << 32
	}
	return base, nil
}

func (p *pciTransport) deviceFeatures(word uint32) uint32 {
	store32(p.common.va, commonDeviceFeatureSelect, word)
	return load32(p.common.va, commonDeviceFeature)
}

func (p *pciTransport) setDriverFeatures(word, v uint32) {
	store32(p.common.va, commonDriverFeatureSelect, word)
	store32(p.common.va, commonDriverFeature, v)
}

func (p *pciTransport) status() uint32 { return uint32(load8(p.common.va + commonDeviceStatus)) }

func (p *pciTransport) setStatus(v uint32) { store8(p.common.va+commonDeviceStatus, uint8(v)) }

func (p *pciTransport) generation() uint32 {
	return uint32(load8(p.common.va + commonConfigGeneration))
}

func (p *pciTransport) config32(off uintptr) uint32 { return load32(p.dv.va, off) }

func (p *pciTransport) queue0() (uint32, bool) {
	store16(p.common.va+commonQueueSelect, 0)
	return uint32(load16(p.common.va + commonQueueSize)), load16(p.common.va+commonQueueEnable) != 0
}

func (p *pciTransport) setQueue0(n uint16, desc, driver, device uint64) {
	c := p.common.va
	store16(c+commonQueueSelect, 0)
	store16(c+commonQueueSize, n)
	store64(c, commonQueueDesc, commonQueueDesc+4, desc)
	store64(c, commonQueueDriver, commonQueueDriver+4, driver)
	store64(c, commonQueueDevice, commonQueueDevice+4, device)
	p.notifyAt = p.notifyArea.va + uintptr(load16(c+commonQueueNotifyOff))*uintptr(p.notifyMultiplier)
	store16(c+commonQueueEnable, 1)
}

func (p *pciTransport) notifyRegister() (uintptr, bool) { return p.notifyAt, false }

func (p *pciTransport) interruptStatus() (uintptr, bool) { return p.isr.va, true }

func (p *pciTransport) gsi() uint32 { return p.line }

func (p *pciTransport) location() string { return fmt.Sprintf("virtio-pci 00:%02x.0", p.dev) }

func (p *pciTransport) release() {
	for _, r := range []*pciRange{&p.common, &p.notifyArea, &p.isr, &p.dv} {
		if r.va != 0 {
			mm.UnmapIoSpace(r.va, r.size)
			r.va = 0
		}
	}
}
