// Waiting for a page-in: the start-up half (inpage_trap.go has the fault
// half).
//
// A hard fault's thread normally sleeps in its fault while the device
// reads the page (inpage_trap.go). When no read can start (no frame, every
// read entry or the device's queue busy), mm's in-page worker gets the
// page and the faulting goroutine is made to yield to the Go scheduler by
// calling the runtime's own asynchronous-preemption entry,
// runtime.asyncPreempt, exactly as the runtime's preemption signal does:
// it saves every register on the goroutine's stack, yields, restores them
// and returns to the faulting instruction, which faults again. The
// runtime scans the interrupted frame conservatively and does not move
// the stack meanwhile, so the goroutine may be stopped anywhere such a
// preemption may; yielding, rather than sleeping, lets the working-set
// manager and the writer that must free a frame run on its P.
//
// That is only where the runtime itself would preempt: Go code outside the
// runtime (not assembly, not runtime.*, internal/*, sync/atomic.*,
// reflect.*, syscall.*); code elsewhere naps instead. asyncSafe is the
// table of function entries and whether each qualifies, built once here,
// searched in trap context.

package kernel

import (
	"runtime"
	"strings"

	"ntgo/kernel/kd"
)

var (
	// asyncPreemptPC is runtime.asyncPreempt's entry, 0 if not found.
	asyncPreemptPC uintptr
	// asyncSafeEntries are the entries of every function, ascending;
	// asyncSafeFlags says whether a fault in each may yield.
	asyncSafeEntries []uintptr
	asyncSafeFlags   []bool
)

// unsafePrefixes are the packages whose code the runtime never preempts
// asynchronously (or that are assembly behind Go names).
var unsafePrefixes = []string{"runtime.", "internal/", "sync/atomic.", "reflect.", "syscall."}

// initInPageDispatch finds asyncPreempt and builds the safe-point table.
func initInPageDispatch() {
	a, ok := kd.RuntimeSymbols{}.Address("runtime.asyncPreempt")
	if !ok {
		println("ntgo: runtime.asyncPreempt not found: faults on paged-out memory stop the system")
		return
	}
	fns, _ := kd.RuntimeSymbols{}.Functions() // ascending by entry
	asyncSafeEntries = make([]uintptr, len(fns))
	asyncSafeFlags = make([]bool, len(fns))
	for i, f := range fns {
		file := ""
		if rf := runtime.FuncForPC(f.Entry); rf != nil {
			file, _ = rf.FileLine(f.Entry)
		}
		safe := strings.HasSuffix(file, ".go")
		for _, p := range unsafePrefixes {
			safe = safe && !strings.HasPrefix(f.Name, p)
		}
		asyncSafeEntries[i], asyncSafeFlags[i] = f.Entry, safe
	}
	asyncPreemptPC = a
}
