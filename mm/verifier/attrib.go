// Attribution: which driver called.
//
// NT attributes a pool call to the driver image holding the caller's
// address. ntgo's drivers are Go packages linked into the kernel image, so
// the kernel (kernel/vf, which owns the function table kd builds from the
// pclntab) hands SetCode the image's text as spans, one per run of
// functions of one package, each naming the driver module whose code it is
// ("" for the kernel's own). The memory manager cannot import the module
// list (kernel/ldr is a layer above it), hence this seam: the spans are
// plain data, set from above, read here.
//
// The caller is found by walking frame pointers (Go's amd64 frames keep
// them) from the verifier's own frame: frames of the memory manager and
// of nt/ (ex, object, pool, ke: routines a driver calls that call on its
// behalf) are passed through; the first other frame decides. A routine
// of mm inlined into the driver runs in the driver's function, which is
// what an import thunk gives NT. A driver's routine that other drivers
// call must not be inlined into them (//go:noinline), or its calls would
// be theirs.
//
// Trap context reads the spans too (special_trap.go: is the faulting
// instruction a driver's?), so the table is swapped whole through an
// atomic pointer and never changed in place.

package verifier

import (
	"sort"
	"strings"
	"sync/atomic"
	"unsafe"
)

// Span is one run of the image's text belonging to one package.
type Span struct {
	Lo, Hi  uintptr // [Lo, Hi)
	Package string  // the Go package, e.g. ntgo/drivers/ramdisk
	Module  string  // the driver module whose code this is; "" if none
}

// codeTable is the spans sorted by Lo, with each span's class.
type codeTable struct {
	spans []Span
	class []int32 // classPassThrough, classOther, or an index into drivers
	// drivers are the verified modules, by class index.
	drivers []string
	// cache remembers the class of return addresses already looked up
	// (cacheEntry), direct-mapped: the walk meets the same few call sites
	// over and over, and a hit is one load instead of a search.
	cache [cacheSlots]atomic.Uint64
}

// A cache entry is pc<<cacheClassBits | (class+cacheBias); 0 is empty.
// Text addresses fit in 48 bits.
const (
	cacheSlots     = 1024
	cacheClassBits = 16
	cacheBias      = 2 // classes start at classPassThrough (-2)
)

// miss looks pc up in the spans and caches its class (caller has looked
// in the cache).
//
//go:noinline
func (t *codeTable) miss(pc uintptr) int32 {
	c := int32(classOther)
	if i := t.find(pc); i >= 0 {
		c = t.class[i]
	}
	t.cache[(pc>>1)&(cacheSlots-1)].Store(uint64(pc)<<cacheClassBits | uint64(c+cacheBias))
	return c
}

const (
	classOther       = -1 // code that is neither verified nor passed through
	classPassThrough = -2 // the memory manager and nt/: keep walking
)

var code atomic.Pointer[codeTable]

// SetCode gives the verifier the image's text (sorted or not).
func SetCode(spans []Span) {
	s := append([]Span(nil), spans...)
	sort.Slice(s, func(i, j int) bool { return s[i].Lo < s[j].Lo })
	mu.Lock()
	defer mu.Unlock()
	code.Store(classify(s, state.settings))
}

// passThrough reports whether pkg's frames call on a driver's behalf.
func passThrough(pkg string) bool {
	return pkg == "ntgo/mm" || strings.HasPrefix(pkg, "ntgo/mm/") || strings.HasPrefix(pkg, "ntgo/nt/")
}

// classify builds the table for settings s.
func classify(spans []Span, s Settings) *codeTable {
	t := &codeTable{spans: spans, class: make([]int32, len(spans))}
	index := map[string]int32{}
	for i, sp := range spans {
		c := int32(classOther)
		switch {
		case passThrough(sp.Package):
			c = classPassThrough
		case sp.Module != "" && s.verifies(sp.Module):
			x, ok := index[sp.Module]
			if !ok {
				x = int32(len(t.drivers))
				index[sp.Module] = x
				t.drivers = append(t.drivers, sp.Module)
			}
			c = x
		}
		t.class[i] = c
	}
	return t
}

// maxFrames bounds the walk: the pool is reached through few wrappers.
const maxFrames = 16

// caller is the verified module that made the current call (its index in
// the table's drivers) and the return address into it, or -1 if the
// caller is not verified.
//
//go:noinline
func caller() (driver int, pc uintptr) {
	t := code.Load()
	if t == nil {
		return -1, 0
	}
	// caller's own return address is always the verifier's: start above it.
	fp := word(framePointer())
	for range maxFrames {
		if fp == 0 {
			break
		}
		ret := word(fp + unsafe.Sizeof(fp))
		pc := ret - 1
		c := int32(0)
		if e := t.cache[(pc>>1)&(cacheSlots-1)].Load(); e>>cacheClassBits == uint64(pc) {
			c = int32(e&(1<<cacheClassBits-1)) - cacheBias // the usual case, inline
		} else {
			c = t.miss(pc)
		}
		if c != classPassThrough {
			return int(c), ret
		}
		fp = word(fp)
	}
	return -1, 0
}

// word reads the stack word at a (a frame-pointer slot).
func word(a uintptr) uintptr { return *(*uintptr)(unsafe.Add(unsafe.Pointer(nil), a)) }

func framePointer() uintptr
