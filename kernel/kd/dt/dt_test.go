package dt

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"ntgo/kernel/console/commandtest"
	"ntgo/kernel/kd"
	"ntgo/mm"
	"ntgo/mm/pfn"
	"ntgo/mm/pool"
	"ntgo/nt/list"
)

// bytesAt is a Memory holding b at base and nothing else.
type bytesAt struct {
	base uintptr
	b    []byte
}

func (m bytesAt) Read(addr uintptr, out []byte) bool {
	if addr < m.base || addr-m.base+uintptr(len(out)) > uintptr(len(m.b)) {
		return false
	}
	copy(out, m.b[addr-m.base:])
	return true
}

const base = 0xfffffe8000002000

func dt(t *testing.T, m kd.Memory, line string) string {
	t.Helper()
	return commandtest.Run(t, Commands(&kd.Target{Memory: m}), line)
}

// The sizes NT documents and the project pins.
func TestDocumentedSizes(t *testing.T) {
	for name, want := range map[string]uintptr{
		"_MMPFN":       pfn.EntrySize,
		"_POOL_HEADER": pool.HeaderSize,
		"_MDL":         48, // NT's x64 MDL header
		"_LIST_ENTRY":  16,
		"_SLIST_ENTRY": 8,
	} {
		_, typ, ok := lookup(name)
		if !ok || typ.Size() != want {
			t.Errorf("%s: %v, %d bytes; want %d", name, ok, typ.Size(), want)
		}
	}
	if unsafe.Sizeof(mm.Mdl{}) != 48 {
		t.Errorf("mm.Mdl is %d bytes", unsafe.Sizeof(mm.Mdl{}))
	}
}

func TestLayout(t *testing.T) {
	out := dt(t, nil, "dt nt!_POOL_HEADER")
	for _, want := range []string{
		"nt!_POOL_HEADER (pool.PoolHeader, 0x10 bytes)\n",
		"   +0x000 PreviousSize : UChar\n",
		"   +0x003 PoolType     : UChar\n",
		"   +0x004 PoolTag      : Uint4B (pool.Tag)\n",
		"   +0x008 Check        : Uint8B\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dt _POOL_HEADER lacks %q:\n%s", want, out)
		}
	}
	if out := dt(t, nil, "dt _mmpfn"); !strings.Contains(out, "+0x000 flink") || !strings.Contains(out, "state") {
		t.Errorf("dt _mmpfn (any case, no nt!):\n%s", out)
	}
	if out := dt(t, nil, "dt _LOOKASIDE_LIST_EX"); !strings.Contains(out, "+0x000 l : ex.general\n      +0x000 cache") {
		t.Errorf("dt _LOOKASIDE_LIST_EX does not expand the general lookaside:\n%s", out)
	}
	if out := dt(t, nil, "dt"); !strings.Contains(out, "nt!_MDL ") || !strings.Contains(out, "nt!_SLIST_HEADER") {
		t.Errorf("dt alone:\n%s", out)
	}
}

// dt with an address decodes the bytes the target reads.
func TestValues(t *testing.T) {
	h := make([]byte, pool.HeaderSize)
	h[0], h[1], h[2], h[3] = 0x0b, 1, 0x5, 1
	binary.LittleEndian.PutUint32(h[4:], uint32(pool.MakeTag("RdEx")))
	binary.LittleEndian.PutUint64(h[8:], 0x81041246352417bd)
	out := dt(t, bytesAt{base, h}, fmt.Sprintf("dt nt!_POOL_HEADER %x", uintptr(base)))
	for _, want := range []string{
		"nt!_POOL_HEADER at fffffe80`00002000\n",
		"+0x000 PreviousSize : 0xb\n",
		"+0x002 BlockSize    : 0x5\n",
		fmt.Sprintf("+0x004 PoolTag      : %#x (RdEx)\n", uint32(pool.MakeTag("RdEx"))),
		"+0x008 Check        : 0x81041246352417bd\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dt _POOL_HEADER at an address lacks %q:\n%s", want, out)
		}
	}
	e := list.ListEntry{Flink: base + 0x100, Blink: base + 0x200}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&e)), unsafe.Sizeof(e))
	if out := dt(t, bytesAt{base, b}, fmt.Sprintf("dt _LIST_ENTRY %x", uintptr(base))); !strings.Contains(out, "+0x000 Flink : 0xfffffe8000002100\n") {
		t.Errorf("dt _LIST_ENTRY:\n%s", out)
	}
	if got := dt(t, bytesAt{base, h}, fmt.Sprintf("dt _MDL %x", uintptr(base))); !strings.Contains(got, "not all readable") {
		t.Errorf("dt past the readable bytes: %q", got)
	}
	if got := dt(t, nil, "dt _NOPE"); !strings.Contains(got, "no type _NOPE") {
		t.Errorf("dt of an unknown type: %q", got)
	}
	if got := dt(t, nil, "dt _MDL 1 2"); got != "error: usage" {
		t.Errorf("dt with three arguments: %q", got)
	}
}

// A PFN entry's state shows by name; the lookaside lists' body is ex's.
func TestStateNames(t *testing.T) {
	if generalLookaside.Name() != "general" || generalLookaside.PkgPath() != "ntgo/mm/ex" {
		t.Fatalf("GENERAL_LOOKASIDE is %v", generalLookaside)
	}
	e := make([]byte, pfn.EntrySize)
	_, entry, _ := lookup("_MMPFN")
	f, _ := entry.FieldByName("state")
	e[f.Offset] = byte(pfn.StateActive)
	out := dt(t, bytesAt{base, e}, fmt.Sprintf("dt _MMPFN %x", uintptr(base)))
	if !strings.Contains(out, fmt.Sprintf("state       : %#x (%v)", byte(pfn.StateActive), pfn.StateActive)) {
		t.Errorf("dt _MMPFN does not name the state:\n%s", out)
	}
}
