package rtl

import (
	"syscall"
	"testing"
	"unsafe"

	"ntgo/nt/ntstatus"
)

func ptr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

func TestCopyMoveFillZero(t *testing.T) {
	src := []byte("0123456789abcdef")
	dst := make([]byte, len(src))
	CopyMemory(ptr(dst), ptr(src), uintptr(len(src)))
	if string(dst) != string(src) {
		t.Fatalf("copy %q", dst)
	}
	// Overlap both ways.
	buf := []byte("abcdefgh")
	MoveMemory(ptr(buf[2:]), ptr(buf), 5)
	if string(buf) != "ababcdeh" {
		t.Fatalf("move up %q", buf)
	}
	buf = []byte("abcdefgh")
	MoveMemory(ptr(buf), ptr(buf[2:]), 5)
	if string(buf) != "cdefgfgh" {
		t.Fatalf("move down %q", buf)
	}
	FillMemory(ptr(buf[1:]), 3, 'x')
	if string(buf) != "cxxxgfgh" {
		t.Fatalf("fill %q", buf)
	}
	ZeroMemory(ptr(buf), 2)
	if buf[0] != 0 || buf[1] != 0 || buf[2] != 'x' {
		t.Fatalf("zero %q", buf)
	}
	CopyMemory(nil, nil, 0) // a zero length needs no memory
}

func TestSecureZeroMemory(t *testing.T) {
	key := []byte("secret key material, 37 bytes long..")
	SecureZeroMemory(ptr(key[1:]), uintptr(len(key)-2))
	if key[0] != 's' || key[len(key)-1] != '.' {
		t.Fatal("zeroed outside the range")
	}
	for _, c := range key[1 : len(key)-1] {
		if c != 0 {
			t.Fatalf("not zeroed: %q", key)
		}
	}
}

func TestEqualAndCompareMemory(t *testing.T) {
	a := []byte("the same prefix, then different")
	b := []byte("the same prefix, then DIFFERENT")
	if got := CompareMemory(ptr(a), ptr(b), uintptr(len(a))); got != 22 {
		t.Fatalf("CompareMemory = %d, want 22", got)
	}
	if got := CompareMemory(ptr(a), ptr(b), 10); got != 10 {
		t.Fatalf("CompareMemory of an equal range = %d", got)
	}
	for n := range uintptr(len(a)) { // every split between the word and byte loops
		want := min(n, 22)
		if got := CompareMemory(ptr(a), ptr(b), n); got != want {
			t.Fatalf("CompareMemory(%d) = %d, want %d", n, got, want)
		}
	}
	if !EqualMemory(ptr(a), ptr(b), 22) || EqualMemory(ptr(a), ptr(b), 23) {
		t.Fatal("EqualMemory")
	}
}

// raised runs f and returns the exception it raised, or nil.
func raised(f func()) (exc *ntstatus.Exception) {
	ntstatus.Try(f, func(e *ntstatus.Exception) { exc = e })
	return exc
}

// pagedPoolVA is a kernel address (the start of paged pool).
var pagedPoolVA = uintptr(0xFFFFF8A0_00000000)

func TestProbeChecks(t *testing.T) {
	buf := make([]byte, 64)
	p := ptr(buf)
	aligned := unsafe.Add(p, -int(uintptr(p)&15)+16) // a 16-byte boundary inside buf
	for _, c := range []struct {
		name string
		f    func()
		want ntstatus.Status
		addr uintptr
	}{
		{"read ok", func() { ProbeForRead(aligned, 32, 16) }, ntstatus.Success, 0},
		{"write ok", func() { ProbeForWrite(aligned, 32, 8) }, ntstatus.Success, 0},
		{"zero length skips every check", func() { ProbeForWrite(unsafe.Add(aligned, 1), 0, 4) }, ntstatus.Success, 0},
		{"misaligned", func() { ProbeForRead(unsafe.Add(aligned, 2), 8, 4) }, ntstatus.DatatypeMisalignment, uintptr(aligned) + 2},
		{"wraps", func() { ProbeForRead(aligned, ^uintptr(0), 1) }, ntstatus.AccessViolation, uintptr(aligned)},
		{"reaches the probe limit", func() {
			ProbeForWrite(unsafe.Add(nil, MmUserProbeAddress-8), 9, 1)
		}, ntstatus.AccessViolation, MmUserProbeAddress - 8},
		{"kernel address", func() { ProbeForRead(unsafe.Add(nil, pagedPoolVA), 1, 1) }, ntstatus.AccessViolation, pagedPoolVA},
		{"bad alignment", func() { ProbeForRead(aligned, 1, 3) }, ntstatus.InvalidParameter, 0},
	} {
		e := raised(c.f)
		switch {
		case c.want == ntstatus.Success && e != nil:
			t.Errorf("%s: raised %v", c.name, e)
		case c.want != ntstatus.Success && (e == nil || e.Status != c.want || e.Address != c.addr):
			t.Errorf("%s: raised %v, want %v at %#x", c.name, e, c.want, c.addr)
		}
	}
}

// ProbeForWrite touches every page of the range without changing it.
func TestProbeForWriteTouchesEveryPage(t *testing.T) {
	const pages = 3
	mem, err := syscall.Mmap(-1, 0, pages*pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	for i := range mem {
		mem[i] = byte(i)
	}
	ProbeForWrite(ptr(mem[5:]), pages*pageSize-10, 1)
	for i := range mem {
		if mem[i] != byte(i) {
			t.Fatalf("byte %d changed to %d", i, mem[i])
		}
	}
}

// A read-only page in the range faults, and the fault is a caught access
// violation at that page: the kernel's fault dispatch raises it into Try,
// as the Go runtime does on a host.
func TestProbeForWriteFaultsOnReadOnlyPage(t *testing.T) {
	if raceEnabled {
		t.Skip("under -race atomics run in the race runtime's C code, where a fault cannot become a Go panic")
	}
	const pages = 3
	mem, err := syscall.Mmap(-1, 0, pages*pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[pageSize:2*pageSize], syscall.PROT_READ); err != nil {
		t.Fatal(err)
	}
	var av *ntstatus.Exception
	if ntstatus.Try(func() { ProbeForWrite(ptr(mem[10:]), 2*pageSize, 1) }, func(e *ntstatus.Exception) { av = e }) {
		t.Fatal("probe of a read-only page did not fault")
	}
	if av.Status != ntstatus.AccessViolation || av.Address != uintptr(ptr(mem[pageSize:])) {
		t.Fatalf("probe raised %v, want an access violation at %p", av, ptr(mem[pageSize:]))
	}
	if !ntstatus.Try(func() { ProbeForRead(ptr(mem[10:]), 2*pageSize, 1) }, nil) {
		t.Fatal("ProbeForRead touched memory")
	}
}
