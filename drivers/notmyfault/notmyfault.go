// Package notmyfault breaks the rules on purpose, as Sysinternals'
// NotMyFault (and its driver, myfault.sys) does on Windows, to show each
// class of bugcheck: pool misuse and corruption, IRQL violations, PFN
// database misuse, bad memory accesses and a kernel stack overflow.
// Console tests use it to check the screen's code, parameters and exit
// status.
//
// It is a driver: it stands on the driver-facing API (ex, ke, mm) and on
// triggers the kernel exports for what a driver cannot reach itself (the
// trap stacks); nothing below it knows it exists. The kernel's driver list
// (cmd/ntgo) calls DriverEntry at boot, which lists it in the loaded-module
// list (`lm`) with the pool tag its misuses allocate with. Each row of the
// table below is one misuse: its name on the console, the bugcheck it
// stops with, and the code that commits it.
package notmyfault

import (
	"fmt"
	"io"
	"runtime"
	"sort"
	"sync"
	"time"
	"unsafe"

	"ntgo/drivers/ramdisk"
	"ntgo/kernel"
	"ntgo/kernel/console"
	"ntgo/kernel/ldr"
	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/layout"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
	"ntgo/nt/rtl"
)

// notMyFaultTag tags the pool blocks notmyfault misuses.
var notMyFaultTag = pool.MakeTag("NMyF")

type notMyFault struct {
	help string
	run  func()
}

// The misuses: each stops the system with the bugcheck in its description.
var notMyFaults = map[string]notMyFault{
	"double-free": {"BAD_POOL_CALLER 7: free a pool block twice", func() {
		p := ex.AllocatePoolWithTag(pool.NonPagedPoolNx, 64, notMyFaultTag)
		ex.FreePool(p)
		ex.FreePool(p)
	}},
	"tag-mismatch": {"BAD_POOL_CALLER 0xA: ExFreePoolWithTag with the wrong tag", func() {
		p := ex.AllocatePoolWithTag(pool.NonPagedPoolNx, 64, notMyFaultTag)
		ex.FreePoolWithTag(p, pool.MakeTag("Oops"))
	}},
	"not-pool": {"BAD_POOL_CALLER: free an address that is no pool block", func() {
		ex.FreePool(unsafe.Pointer(&notMyFaultTag))
	}},
	"overrun": {"BAD_POOL_HEADER: write past a block into its neighbour's header, then free", func() {
		a := ex.AllocatePoolWithTag(pool.NonPagedPoolNx, 64, notMyFaultTag)
		b := ex.AllocatePoolWithTag(pool.NonPagedPoolNx, 64, notMyFaultTag)
		if uintptr(b) < uintptr(a) { // blocks are carved from a free block's tail
			a = b
		}
		const past = 32 // beyond the lower block's 64 bytes, into its neighbour's header
		clear(unsafe.Slice((*byte)(a), 64+past))
		ex.FreePool(a)
	}},
	"use-after-free": {"DRIVER_CORRUPTED_EXPOOL: write into a freed block's lookaside link, then allocate", func() {
		keep := ex.AllocatePoolWithTag(pool.NonPagedPoolNx, useAfterFreeBytes, notMyFaultTag)
		p := ex.AllocatePoolWithTag(pool.NonPagedPoolNx, useAfterFreeBytes, notMyFaultTag)
		ex.FreePool(keep)
		ex.FreePool(p)
		*(*uintptr)(p) = useAfterFreeLink // the free block's first word is its list link
		ex.AllocatePoolWithTag(pool.NonPagedPoolNx, useAfterFreeBytes, notMyFaultTag)
	}},
	"paged-at-dispatch": {"BAD_POOL_CALLER 8: allocate paged pool at DISPATCH_LEVEL", func() {
		ke.RaiseIrql(ke.DispatchLevel)
		ex.AllocatePoolWithTag(pool.PagedPool, 64, notMyFaultTag)
	}},
	"irql": {"DRIVER_IRQL_NOT_LESS_OR_EQUAL: touch a not yet resident paged-pool page at DISPATCH_LEVEL (the driver's own access)", func() {
		p := (*byte)(ex.AllocatePoolWithTag(pool.PagedPool, 2*physmem.PageSize, notMyFaultTag))
		ke.RaiseIrql(ke.DispatchLevel)
		*p = 1
	}},
	"paged-out-dispatch": {"IRQL_NOT_LESS_OR_EQUAL: RtlCopyMemory from a trimmed (paged-out) paged-pool page at DISPATCH_LEVEL", func() {
		src := ex.AllocatePoolWithTag(pool.PagedPool, physmem.PageSize, notMyFaultTag)
		dst := ex.AllocatePoolWithTag(pool.NonPagedPoolNx, 8, notMyFaultTag)
		*(*uint64)(src) = 0x6E6F74206D696E65
		mm.TrimAllPageable() // as Driver Verifier's IRQL checking does
		ke.RaiseIrql(ke.DispatchLevel)
		rtl.CopyMemory(dst, src, 8) // the fault is in the kernel's code, not the driver's
	}},
	"no-pages": {"NO_PAGES_AVAILABLE (after 20 s): hold every frame a pageable fault may take in locked MDLs, then touch paged pool that is not resident", holdEveryFrame},
	"panic-high": {"SYSTEM_THREAD_EXCEPTION_NOT_HANDLED: a Go panic at HIGH_LEVEL", func() {
		ke.RaiseIrql(ke.HighLevel)
		panic("notmyfault: panic at HIGH_LEVEL")
	}},
	"return-at-dispatch": {"IRQL_GT_ZERO_AT_SYSTEM_SERVICE: return from the command at DISPATCH_LEVEL", func() {
		ke.RaiseIrql(ke.DispatchLevel)
	}},
	"sleep-at-dispatch": {"ATTEMPTED_SWITCH_FROM_DPC: sleep at DISPATCH_LEVEL", func() {
		ke.RaiseIrql(ke.DispatchLevel)
		// Long enough that the runtime's thread blocks in the kernel
		// rather than spinning through a short timer.
		time.Sleep(time.Second)
	}},
	"exit-at-dispatch": {"ATTEMPTED_SWITCH_FROM_DPC: a thread ends at DISPATCH_LEVEL (exits; the runtime parks its main thread instead)", func() {
		// The console's goroutine keeps its thread, so the other one gets a
		// thread of its own, which the runtime ends when it returns locked.
		// It wakes no one: a goroutine it readied could hand the processor
		// to another thread and make it wait first.
		runtime.LockOSThread()
		go func() {
			runtime.LockOSThread()
			ke.RaiseIrql(ke.DispatchLevel)
		}()
		select {}
	}},
	"panic-goroutine": {"SYSTEM_THREAD_EXCEPTION_NOT_HANDLED: a Go panic in a goroutine of its own (the runtime's fatal report)", func() {
		go panic("notmyfault: panic in a goroutine")
		select {}
	}},
	"fatal-error": {"KMODE_EXCEPTION_NOT_HANDLED: a Go runtime fatal error (unlock of an unlocked mutex)", func() {
		var mu sync.Mutex
		mu.Unlock()
	}},
	"pfn": {"PFN_LIST_CORRUPT: free a page frame twice", func() {
		f, _ := mm.PFN.AllocateZeroed(0, 0)
		mm.PFN.Free(f, 0)
		mm.PFN.Free(f, 0)
	}},
	"fault": {"PAGE_FAULT_IN_NONPAGED_AREA: read unmapped session space", func() {
		va := layout.SessionSpaceStart
		loadByte((*byte)(unsafe.Add(unsafe.Pointer(nil), va)))
	}},
	"secure-write":   {"ATTEMPTED_WRITE_TO_READONLY_MEMORY: store into a secure-pool block through its read-only mapping", secureWrite},
	"stack-overflow": {"UNEXPECTED_KERNEL_MODE_TRAP 8: run the interrupt stack into its guard page, as a runaway interrupt handler would", kernel.OverflowInterruptStack},

	// Driver Verifier (verifier /flags 1 /driver ramdisk): the ramdisk's
	// transfer buffers come from special pool.
	"special-overrun": {"DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION: write past the end of a ramdisk buffer in special pool", func() {
		p := ramdisk.AllocateBuffer(specialBytes, pool.NormalPoolPriority)
		storeByte((*byte)(unsafe.Add(p, specialBytes)), 1)
	}},
	"special-underrun": {"DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION: write before the start of a ramdisk buffer placed against its guard page (underrun priority)", func() {
		p := ramdisk.AllocateBuffer(specialBytes, pool.NormalPoolPrioritySpecialPoolUnderrun)
		storeByte((*byte)(unsafe.Add(p, -1)), 1)
	}},
	"special-use-after-free": {"DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL: read a ramdisk buffer after freeing it", func() {
		p := ramdisk.AllocateBuffer(specialBytes, pool.NormalPoolPriority)
		ramdisk.FreeBuffer(p)
		loadByte((*byte)(p))
	}},
	"special-slack": {"SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION 0x24: write into the slack after a ramdisk buffer, then free it", func() {
		p := ramdisk.AllocateBuffer(slackBytes, pool.NormalPoolPriority)
		storeByte((*byte)(unsafe.Add(p, slackBytes)), 1) // within the block's 16-byte rounding: no fault
		ramdisk.FreeBuffer(p)
	}},
	"paged-code": {"KMODE_EXCEPTION_NOT_HANDLED 0xC0000420: call a PAGED_CODE routine of the ramdisk at DISPATCH_LEVEL", func() {
		ke.RaiseIrql(ke.DispatchLevel)
		ramdisk.Load(ramdiskPage)
	}},
	"irql-resident": {"none unverified; DRIVER_IRQL_NOT_LESS_OR_EQUAL under verifier /flags 2 /driver notmyfault (the verified raise trims the working set): touch a resident paged-pool page at DISPATCH_LEVEL", func() {
		p := (*byte)(ex.AllocatePoolWithTag(pool.PagedPool, physmem.PageSize, notMyFaultTag))
		*p = 1 // resident now
		ke.RaiseIrql(ke.DispatchLevel)
		*p = 2
		ke.LowerIrql(ke.PassiveLevel)
		ex.FreePool(unsafe.Pointer(p))
	}},
	"lower-irql-up": {"IRQL_NOT_LESS_OR_EQUAL (verified: DRIVER_VERIFIER_DETECTED_VIOLATION 0x31): KeLowerIrql to a higher level", func() {
		ke.LowerIrql(ke.DispatchLevel)
	}},
	"raise-irql-down": {"IRQL_NOT_GREATER_OR_EQUAL (verified: DRIVER_VERIFIER_DETECTED_VIOLATION 0x30): KeRaiseIrql to a lower level", func() {
		ke.RaiseIrql(ke.DispatchLevel)
		ke.RaiseIrql(ke.PassiveLevel)
	}},
	"free-at-high": {"BAD_POOL_CALLER 9 (verified: DRIVER_VERIFIER_DETECTED_VIOLATION 0x12): free nonpaged pool at HIGH_LEVEL", func() {
		p := ex.AllocatePoolWithTag(pool.NonPagedPoolNx, 64, notMyFaultTag)
		ke.RaiseIrql(ke.HighLevel)
		ex.FreePool(p)
	}},
}

// preconditions say why a misuse cannot be shown now.
var preconditions = map[string]func() error{
	"special-overrun": ramdiskSpecialPool, "special-underrun": ramdiskSpecialPool,
	"special-use-after-free": ramdiskSpecialPool, "special-slack": ramdiskSpecialPool,
}

// Sizes of the special-pool cases' buffers: a multiple of 16 ends at its
// guard page; slackBytes leaves slack after it.
const (
	specialBytes = 64
	slackBytes   = 100
	ramdiskPage  = 4096
)

// ramdiskSpecialPool refuses the special-pool cases unless the ramdisk's
// buffers come from special pool (else the misuse would damage normal
// pool silently).
func ramdiskSpecialPool() error {
	p := ramdisk.AllocateBuffer(1, pool.NormalPoolPriority)
	if p == nil {
		return fmt.Errorf("no ramdisk buffer to be had")
	}
	defer ramdisk.FreeBuffer(p)
	if r, ok := layout.Find(uintptr(p)); !ok || r.ID != layout.SpecialPool {
		return fmt.Errorf("the ramdisk's buffers are not in special pool: verifier /flags 1 /driver ramdisk first")
	}
	return nil
}

// use-after-free's block size (one few others use, so its lookaside holds
// only notmyfault's blocks) and the value it leaves in the freed link.
const (
	useAfterFreeBytes = 232
	useAfterFreeLink  = 0xBAD0
)

const moduleName = "notmyfault"

func init() {
	console.Register(console.Command{Name: "notmyfault", Args: "<misuse>",
		Help: "stop the system on purpose with one class of bugcheck (notmyfault ? lists them)", Run: cmdNotMyFault})
}

// DriverEntry loads the driver: it lists it among the loaded modules with
// its pool tag.
func DriverEntry() ntstatus.Status {
	return ldr.Load(ldr.Module{Name: moduleName, Package: "ntgo/drivers/notmyfault", Tags: []pool.Tag{notMyFaultTag}})
}

func cmdNotMyFault(w io.Writer, args []string) error {
	if len(args) == 1 {
		if f, ok := notMyFaults[args[0]]; ok {
			if pre := preconditions[args[0]]; pre != nil {
				if err := pre(); err != nil {
					return fmt.Errorf("%s: %w", args[0], err)
				}
			}
			f.run()
			return fmt.Errorf("%s did not stop the system", args[0])
		}
	}
	names := make([]string, 0, len(notMyFaults))
	for n := range notMyFaults {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-18s %s\n", n, notMyFaults[n].help)
	}
	return console.ErrUsage
}

// loadByte reads *p; a call the compiler cannot drop.
//
//go:noinline
func loadByte(p *byte) byte { return *p }

// storeByte writes v at p; a store the compiler cannot drop.
//
//go:noinline
func storeByte(p *byte, v byte) { *p = v }

// holdEveryFrame takes every available frame but half the pager's fault
// reserve into locked MDL pages, which neither trimming nor the modified
// page writer can free, and keeps taking those that come back (trimmed
// pages written to Standby) before a pageable fault could take them, then
// touches a paged-pool page that was never resident: its fault finds no
// frame, nothing the pager does can give it one, and the wait ends in
// NO_PAGES_AVAILABLE. The frames below three quarters of the reserve are
// left to the Go runtime, which gives some back and takes them again
// (its scavenger) while the fault waits.
func holdEveryFrame() {
	page := (*byte)(ex.AllocatePoolWithTag(pool.PagedPool, physmem.PageSize, notMyFaultTag))
	reserve := mm.SystemPager().Reserve
	keep, retake := reserve/2, reserve*3/4
	held := make(chan struct{})
	go func() {
		var mdls []*mm.Mdl // never given back: the system stops
		signal := held
		for {
			if a := mm.PFN.Stats().Available(); a > retake || (signal != nil && a > keep) {
				if m := mm.AllocatePagesForMdlEx(0, ^uint64(0), 0, uintptr(a-keep)*physmem.PageSize, pte.Cached, mm.MmDontZeroAllocation); m != nil {
					mdls = append(mdls, m)
					continue
				}
			} else if signal != nil {
				close(signal)
				signal = nil
			}
			time.Sleep(time.Millisecond)
		}
	}()
	<-held
	storeByte(page, 1)
}
