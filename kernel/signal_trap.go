// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Signal state the runtime installs: handlers, masks and alternate stacks
// are recorded per Linux semantics so the runtime's bookkeeping is consistent.
// Signals are not delivered (tgkill is accepted and dropped): a fault in
// kernel code is a bugcheck, not a SIGSEGV.

package kernel

import "syscall"

const maxSignal = 65

type sigaction struct {
	Handler  uintptr
	Flags    uint64
	Restorer uintptr
	Mask     uint64
}

var sigactions [maxSignal]sigaction

//go:nosplit
func sysSigaction(sig, act, oact uintptr) uintptr {
	if sig == 0 || sig >= maxSignal {
		return errno(syscall.EINVAL)
	}
	if oact != 0 {
		*(*sigaction)(unsafePointerAt(oact)) = sigactions[sig]
	}
	if act != 0 {
		sigactions[sig] = *(*sigaction)(unsafePointerAt(act))
	}
	return 0
}

const (
	sigBlock   = 0
	sigUnblock = 1
	sigSetmask = 2
)

//go:nosplit
func sysSigprocmask(how, set, oset uintptr) uintptr {
	th := &threads[currentKPCR().Current]
	if oset != 0 {
		*(*uint64)(unsafePointerAt(oset)) = th.SigMask
	}
	if set != 0 {
		m := *(*uint64)(unsafePointerAt(set))
		switch how {
		case sigBlock:
			th.SigMask |= m
		case sigUnblock:
			th.SigMask &^= m
		case sigSetmask:
			th.SigMask = m
		default:
			return errno(syscall.EINVAL)
		}
	}
	return 0
}

// stack_t
type sigStack struct {
	SP    uintptr
	Flags int32
	_     int32
	Size  uintptr
}

const ssDisable = 2

//go:nosplit
func sysSigaltstackCall(ss, oss uintptr) uintptr {
	th := &threads[currentKPCR().Current]
	if oss != 0 {
		o := (*sigStack)(unsafePointerAt(oss))
		o.SP, o.Size, o.Flags = th.AltStack, th.AltStackSize, 0
		if th.AltStack == 0 {
			o.Flags = ssDisable
		}
	}
	if ss != 0 {
		n := (*sigStack)(unsafePointerAt(ss))
		if n.Flags&ssDisable != 0 {
			th.AltStack, th.AltStackSize = 0, 0
		} else {
			th.AltStack, th.AltStackSize = n.SP, n.Size
		}
	}
	return 0
}
