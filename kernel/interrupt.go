// IoConnectInterrupt for drivers: a device's interrupt line (a GSI) routed
// through an I/O APIC to a vector of its own, with the driver's service
// routine called there in trap context (interrupt_trap.go).
//
// Structure: connected is a static table, one Interrupt per device vector
// (vecDeviceFirst on), so the trap path indexes it without allocating and
// the futex word each Interrupt carries never moves. GSIs 0-23 are the
// first I/O APIC's pins (tamago's driver, as COM1's); 24-47 are microvm's
// second I/O APIC (at ioapic2Base, where QEMU puts its virtio-mmio lines
// when the machine has one), programmed here through mm.MapIoSpace.
//
// Waking a goroutine: a service routine that claims its interrupt makes the
// kernel bump the Interrupt's count and futex-wake every thread waiting on
// it; Wait sleeps in FUTEX_WAIT until the count moves past the value the
// caller last saw, so an interrupt between two Waits is never lost and no
// one polls. The goroutine that waits does what NT's DPC would, at
// PASSIVE_LEVEL, where it may allocate, take locks and wake others.
// There is no IoDisconnectInterrupt yet: the one driver that connects,
// virtioblk, keeps its disk for the kernel's life.
//
// Locking: connectMu serializes connections (a vector's slot and its
// redirection entry are written once, before the line is unmasked); the
// trap path only reads a slot whose service routine is set.

package kernel

import (
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

// ServiceRoutine is a KSERVICE_ROUTINE: called in trap context with the
// context given to IoConnectInterrupt, it returns whether its device raised
// the interrupt (and has quieted it). It must be a //go:nosplit function
// in a *_trap.go file (a plain function, not a method value, whose wrapper
// would have a stack check).
type ServiceRoutine func(context uintptr) bool

// Interrupt is a connected interrupt, NT's KINTERRUPT.
type Interrupt struct {
	service  ServiceRoutine
	context  uintptr
	gsi      uint32
	vector   uint32
	count    uint32 // futex word: interrupts the service routine claimed
	spurious uint64 // interrupts it did not claim
}

// The second I/O APIC of microvm (QEMU's IO_APIC_SECONDARY_ADDRESS and
// IRQBASE) and the I/O APIC's register window (82093AA datasheet).
const (
	ioapic2Base     = 0xFEC10000
	ioapic2GSIBase  = 24
	ioapicPins      = 24
	ioapicRegSel    = 0x00
	ioapicWindow    = 0x10
	ioapicRedirTbl  = 0x10 // entry n is registers 0x10+2n (low) and 0x11+2n (high)
	ioapicWindowLen = 0x20
)

var (
	connectMu sync.Mutex
	connected [deviceVectors]Interrupt
	ioapic2VA uintptr
)

// IoConnectInterrupt is NT's for a line-based interrupt: it routes gsi
// (edge-triggered, active high, to this processor) to a free device vector
// whose interrupts call service(context). STATUS_INVALID_PARAMETER for a
// GSI no I/O APIC here has or one already connected;
// STATUS_INSUFFICIENT_RESOURCES when the device vectors are all taken.
func IoConnectInterrupt(gsi uint32, service ServiceRoutine, context uintptr) (*Interrupt, ntstatus.Status) {
	if service == nil || gsi >= ioapic2GSIBase+ioapicPins {
		return nil, ntstatus.InvalidParameter
	}
	connectMu.Lock()
	defer connectMu.Unlock()
	free := -1
	for i := range connected {
		switch {
		case connected[i].service != nil && connected[i].gsi == gsi:
			return nil, ntstatus.InvalidParameter
		case connected[i].service == nil && free < 0:
			free = i
		}
	}
	if free < 0 {
		return nil, ntstatus.InsufficientResources
	}
	in := &connected[free]
	*in = Interrupt{service: service, context: context, gsi: gsi, vector: uint32(vecDeviceFirst + free)}
	if gsi < ioapic2GSIBase {
		ioapc.EnableInterrupt(int(gsi), int(in.vector))
		return in, ntstatus.Success
	}
	if ioapic2VA == 0 {
		ioapic2VA = mm.MapIoSpace(ioapic2Base, ioapicWindowLen, pte.NonCached)
		if ioapic2VA == 0 {
			*in = Interrupt{}
			return nil, ntstatus.InsufficientResources
		}
	}
	pin := gsi - ioapic2GSIBase
	// Destination APIC 0 in the high half first, then the vector, unmasked,
	// fixed delivery, physical mode, edge, active high in the low half.
	ioapic2Write(ioapicRedirTbl+2*pin+1, 0)
	ioapic2Write(ioapicRedirTbl+2*pin, in.vector)
	return in, ntstatus.Success
}

func ioapic2Write(reg, v uint32) {
	atomic.StoreUint32(mmio32(ioapic2VA+ioapicRegSel), reg)
	atomic.StoreUint32(mmio32(ioapic2VA+ioapicWindow), v)
}

// Wait sleeps until the interrupt's count differs from seen and returns
// the count: pass what the last Wait returned (0 the first time).
func (in *Interrupt) Wait(seen uint32) uint32 {
	for {
		if c := atomic.LoadUint32(&in.count); c != seen {
			return c
		}
		syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&in.count)), futexWait|futexPrivateFlag, uintptr(seen), 0, 0, 0)
	}
}

// Count is how many interrupts the service routine has claimed.
func (in *Interrupt) Count() uint32 { return atomic.LoadUint32(&in.count) }

// Vector is the IDT vector the interrupt arrives on.
func (in *Interrupt) Vector() uint32 { return in.vector }
