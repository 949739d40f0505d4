// Package ldr is the list of loaded modules: the kernel image and the
// drivers running in it, NT's PsLoadedModuleList, which WinDbg's `lm`
// prints (the view is kernel/kd/mmext's, with each module's pool tags).
//
// ntgo's drivers are Go packages linked into the kernel image, so loading
// one does not map an image: a driver's load routine registers it here with
// the pool tags it allocates with, and its unload routine removes it. `lm`
// then shows each module's tags with what they hold in the pools right now,
// so a leak is visible before the unload-time leak check reports it.
//
// The list is small and changes rarely (load and unload run at PASSIVE_LEVEL
// from goroutines): a mutex guards it.
package ldr

import (
	"slices"
	"sync"

	"ntgo/mm/pool"
	"ntgo/mm/verifier"
	"ntgo/nt/ntstatus"
)

// Module is one loaded module.
type Module struct {
	Name    string     // as `lm` prints it, e.g. "ramdisk"
	Package string     // the Go package holding its code
	Start   uintptr    // image span, for the kernel image; 0 for drivers,
	End     uintptr    // which live inside it
	Tags    []pool.Tag // the pool tags it allocates with
}

var (
	mu      sync.Mutex
	modules []Module
)

// Load adds m to the list. A second module with
// the same name is refused with STATUS_OBJECT_NAME_COLLISION.
func Load(m Module) ntstatus.Status {
	mu.Lock()
	defer mu.Unlock()
	if slices.ContainsFunc(modules, func(o Module) bool { return o.Name == m.Name }) {
		return ntstatus.ObjectNameCollision
	}
	m.Tags = slices.Clone(m.Tags)
	modules = append(modules, m)
	return ntstatus.Success
}

// Unload removes the module named name and reports whether it was loaded.
// Driver Verifier checks a verified driver first: one that leaves pool
// allocations behind stops with 0xC4 0x62 (mm/verifier).
func Unload(name string) bool {
	verifier.DriverUnloading(name)
	mu.Lock()
	defer mu.Unlock()
	n := len(modules)
	modules = slices.DeleteFunc(modules, func(m Module) bool { return m.Name == name })
	return len(modules) < n
}

// Modules returns the loaded modules in load order.
func Modules() []Module {
	mu.Lock()
	defer mu.Unlock()
	return slices.Clone(modules)
}

// TryModules is Modules for the bugcheck path, which must not wait: false
// if a load or unload holds the list.
func TryModules() ([]Module, bool) {
	if !mu.TryLock() {
		return nil, false
	}
	defer mu.Unlock()
	return slices.Clone(modules), true
}
