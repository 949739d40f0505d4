// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// epoll and eventfd, as far as the runtime's netpoller uses them: it creates
// one epoll instance and one eventfd (netpollBreak writes to it to wake a
// poller), and sleeps in epoll_pwait with a timeout when it has timers.
// File descriptors from fdBase up name these objects.

package kernel

import "syscall"

const (
	fdBase      = 3
	maxFds      = 16
	maxWatches  = 8
	epollIn     = 0x001
	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3
)

type fdKind uint8

const (
	fdFree fdKind = iota
	fdEpoll
	fdEventfd
)

type epollWatch struct {
	fd     int32
	events uint32
	data   uint64
}

type fileDesc struct {
	kind    fdKind
	counter uint64 // eventfd
	watches [maxWatches]epollWatch
	nwatch  int
}

var fds [maxFds]fileDesc

//go:nosplit
func fdAt(fd int, kind fdKind) *fileDesc {
	if fd < fdBase || fd >= fdBase+maxFds || fds[fd-fdBase].kind != kind {
		return nil
	}
	return &fds[fd-fdBase]
}

//go:nosplit
func allocFd(kind fdKind) uintptr {
	for i := range fds {
		if fds[i].kind == fdFree {
			fds[i] = fileDesc{kind: kind}
			return uintptr(i + fdBase)
		}
	}
	return errno(syscall.ENFILE)
}

//go:nosplit
func closeFd(fd int) uintptr {
	if fd < fdBase || fd >= fdBase+maxFds || fds[fd-fdBase].kind == fdFree {
		return errno(syscall.EBADF)
	}
	fds[fd-fdBase].kind = fdFree
	return 0
}

//go:nosplit
func isEventfd(fd int) bool { return fdAt(fd, fdEventfd) != nil }

//go:nosplit
func epollCreate() uintptr { return allocFd(fdEpoll) }

//go:nosplit
func eventfdCreate(initval uintptr) uintptr {
	fd := allocFd(fdEventfd)
	if int(fd) >= fdBase {
		fds[fd-fdBase].counter = uint64(initval)
	}
	return fd
}

// struct epoll_event is packed on x86-64: 4-byte events, 8-byte data.
type epollEvent struct {
	Events uint32
	Data   [8]byte
}

//go:nosplit
func epollCtl(epfd int, op uintptr, fd int, ev uintptr) uintptr {
	ep := fdAt(epfd, fdEpoll)
	if ep == nil {
		return errno(syscall.EBADF)
	}
	for i := 0; i < ep.nwatch; i++ {
		if int(ep.watches[i].fd) != fd {
			continue
		}
		switch op {
		case epollCtlDel:
			ep.nwatch--
			ep.watches[i] = ep.watches[ep.nwatch]
			return 0
		case epollCtlMod:
			e := (*epollEvent)(unsafePointerAt(ev))
			ep.watches[i].events, ep.watches[i].data = e.Events, leUint64(e.Data)
			return 0
		}
		return errno(syscall.EEXIST)
	}
	if op != epollCtlAdd {
		return errno(syscall.ENOENT)
	}
	if ep.nwatch == maxWatches {
		return errno(syscall.ENOMEM)
	}
	e := (*epollEvent)(unsafePointerAt(ev))
	ep.watches[ep.nwatch] = epollWatch{fd: int32(fd), events: e.Events, data: leUint64(e.Data)}
	ep.nwatch++
	return 0
}

//go:nosplit
func leUint64(b [8]byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// pollReady fills events with the ready watches of ep and counts them.
//
//go:nosplit
func pollReady(ep *fileDesc, events uintptr, max int) int {
	n := 0
	for i := 0; i < ep.nwatch && n < max; i++ {
		w := &ep.watches[i]
		if efd := fdAt(int(w.fd), fdEventfd); efd != nil && efd.counter > 0 && w.events&epollIn != 0 {
			out := (*epollEvent)(unsafePointerAt(events + uintptr(n)*12))
			out.Events = epollIn
			for j := 0; j < 8; j++ {
				out.Data[j] = byte(w.data >> (8 * j))
			}
			n++
		}
	}
	return n
}

//go:nosplit
func epollWait(epfd int, events, maxEvents uintptr, timeoutMs int) uintptr {
	ep := fdAt(epfd, fdEpoll)
	if ep == nil {
		return errno(syscall.EBADF)
	}
	if n := pollReady(ep, events, int(maxEvents)); n > 0 || timeoutMs == 0 {
		return uintptr(n)
	}
	var deadline int64
	if timeoutMs > 0 {
		deadline = nanotime() + int64(timeoutMs)*1_000_000
		noteDeadline(deadline)
	}
	// Woken by an eventfd write with result 0 (no events reported: the
	// runtime polls again) or by the deadline.
	block(waitPoll, uintptr(epfd), deadline)
	return 0
}

//go:nosplit
func eventfdWrite(fd int, buf, n uintptr) uintptr {
	if n < 8 {
		return errno(syscall.EINVAL)
	}
	fds[fd-fdBase].counter += *(*uint64)(unsafePointerAt(buf))
	for i := range threads {
		if threads[i].State == threadBlocked && threads[i].Wait == waitPoll {
			wake(int32(i), 0)
		}
	}
	return 8
}

//go:nosplit
func eventfdRead(fd int, buf, n uintptr) uintptr {
	if n < 8 {
		return errno(syscall.EINVAL)
	}
	d := &fds[fd-fdBase]
	if d.counter == 0 {
		return errno(syscall.EAGAIN)
	}
	*(*uint64)(unsafePointerAt(buf)) = d.counter
	d.counter = 0
	return 8
}
