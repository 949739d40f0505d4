// Threads are the kernel's schedulable contexts. Every thread the Go runtime
// makes with clone (an M) is one; thread 0 is the idle thread, thread 1 the
// boot thread that becomes the runtime's m0.
//
// The table is static (threads are created in trap context, where nothing may
// be allocated) and holds no Go pointers (it is written with the trap g,
// which cannot run write barriers). A thread that is not running keeps its
// registers in Frame; the running thread's registers live on the CPU and in
// the trap frame of the current kernel entry.

package kernel

type threadState uint32

const (
	threadFree threadState = iota
	threadReady
	threadRunning
	threadBlocked
)

// Why a blocked thread waits, for !thread.
type waitReason uint32

const (
	waitNone waitReason = iota
	waitFutex
	waitSleep
	waitPoll
	waitConsole
)

var waitNames = [...]string{waitNone: "-", waitFutex: "futex", waitSleep: "sleep", waitPoll: "epoll", waitConsole: "console"}

const (
	maxThreads = 128
	idleThread = 0
	bootThread = 1
	noThread   = -1
)

type Thread struct {
	Frame TrapFrame

	FSBase   uintptr
	TID      int32
	State    threadState
	Wait     waitReason
	WaitAddr uintptr // futex word or poll instance
	Deadline int64   // wake-up time in nanotime, 0 for none
	next     int32   // run-queue link
	Idle     bool    // a processor's idle thread: never queued, runs only there
	// Affinity is the processors the thread may run on (sched_setaffinity,
	// KeSetSystemAffinityThreadEx); 0 is every processor. A new thread
	// starts with 0: the runtime creates Ms with special state from its
	// template thread, never from a locked one.
	Affinity uint64
	raised   raisedWait // futex waits at raised IRQL (syscall_trap.go)

	SigMask      uint64
	AltStack     uintptr
	AltStackSize uintptr

	Created  int64 // nanotime at creation
	CPUTime  int64 // nanoseconds run
	lastRun  int64 // nanotime when last dispatched
	Switches uint64
}

var threads [maxThreads]Thread

// The ready queue: FIFO of thread indices linked through next.
var readyHead, readyTail int32 = noThread, noThread

var nextTID int32 = 2 // 1 is the boot thread (and the process ID)
