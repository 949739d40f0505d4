// Waiting for a page-in: the start-up half (inpage_trap.go has the fault
// half).
//
// A goroutine that faults on a pageable page in the paging file must wait
// for a read, and trap context can neither read nor block a goroutine. So
// the fault handler queues the read for mm's in-page worker and makes the
// goroutine yield to the Go scheduler by calling the runtime's own
// asynchronous-preemption entry, runtime.asyncPreempt, exactly as the
// runtime's preemption signal does: it saves every register on the
// goroutine's stack, yields, restores them and returns to the faulting
// instruction, which faults again until the page is valid. The runtime
// scans the interrupted frame conservatively and does not move the stack
// meanwhile, so the goroutine may be stopped anywhere such a preemption may.
//
// That is only where the runtime itself would preempt: Go code outside the
// runtime (not assembly, not runtime.*, internal/*, sync/atomic.*,
// reflect.*, syscall.*). asyncSafe is the table of function entries and
// whether each qualifies, built once here, searched in trap context.

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
