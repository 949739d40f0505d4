package ramdisk

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"ntgo/kernel/console"
	"ntgo/mm/ex/extest"
	"ntgo/mm/pool"
	"ntgo/nt/ntstatus"
)

func loadDisk(t *testing.T, size uintptr) (*Disk, *pool.System) {
	t.Helper()
	p := extest.Setup(t)
	d, st := Load(size)
	if st != ntstatus.Success {
		t.Fatalf("Load: %v", st)
	}
	return d, p
}

func TestWriteReadAcrossExtents(t *testing.T) {
	d, _ := loadDisk(t, 5*extentSize)
	text := []byte("spans the boundary between two extents")
	off := uintptr(extentSize - 10)
	if st := d.Write(off, text); st != ntstatus.Success {
		t.Fatalf("Write: %v", st)
	}
	got, st := d.Read(off, uintptr(len(text)))
	if st != ntstatus.Success || !bytes.Equal(got, text) {
		t.Fatalf("Read = %q, %v", got, st)
	}
	// Never-written space reads as zeros and allocates nothing.
	zeros, _ := d.Read(3*extentSize, 100)
	if !bytes.Equal(zeros, make([]byte, 100)) {
		t.Fatal("unwritten space is not zero")
	}
	s := d.Stat()
	if s.Extents != 2 || s.Writes != 1 || s.Reads != 2 {
		t.Fatalf("stats %+v", s)
	}
	if s.BytesByTag[tagData] != 2*extentSize {
		t.Fatalf("data tag holds %d bytes, want two extents", s.BytesByTag[tagData])
	}
	if s.BytesByTag[tagIO] != 0 {
		t.Fatal("bounce buffers outlived their requests")
	}
	if leaks := d.Unload(); len(leaks) != 0 {
		t.Fatalf("leaks after a clean run: %+v", leaks)
	}
}

func TestOutOfRange(t *testing.T) {
	d, _ := loadDisk(t, extentSize)
	if st := d.Write(extentSize-1, []byte("xy")); st != ntstatus.InvalidParameter {
		t.Fatalf("write past the end: %v", st)
	}
	if _, st := d.Read(^uintptr(0), 2); st != ntstatus.InvalidParameter {
		t.Fatalf("read that wraps: %v", st)
	}
	// A huge read is refused before anything is allocated for it.
	if _, st := d.Read(0, ^uintptr(0)); st != ntstatus.InvalidParameter {
		t.Fatalf("read of 2^64-1 bytes: %v", st)
	}
	if d.Stat().Errors != 3 {
		t.Fatal("errors not counted")
	}
	if leaks := d.Unload(); len(leaks) != 0 {
		t.Fatalf("leaks: %+v", leaks)
	}
}

// Sizes beyond MaxSize are refused: rounded to whole extents, one near
// 2^64 would wrap to an empty disk.
func TestLoadRefusesHugeSizes(t *testing.T) {
	extest.Setup(t)
	for _, size := range []uintptr{0, MaxSize + 1, ^uintptr(0)} {
		if d, st := Load(size); st != ntstatus.InvalidParameter {
			t.Errorf("Load(%#x): %v, size %d", size, st, d.Stat().Size)
		}
	}
	d, st := Load(MaxSize)
	if st != ntstatus.Success || d.Stat().Size != MaxSize {
		t.Fatalf("Load(MaxSize): %v", st)
	}
	d.Unload()
}

// Request packets come from the lookaside list: one miss, then reuse.
func TestRequestsReuseLookaside(t *testing.T) {
	d, _ := loadDisk(t, extentSize)
	const n = 50
	for i := range n {
		if st := d.Write(uintptr(i), []byte{byte(i)}); st != ntstatus.Success {
			t.Fatal(st)
		}
	}
	r := d.Stat().Requests
	if r.TotalAllocates != n || r.AllocateMisses != 1 || r.TotalFrees != n {
		t.Fatalf("request lookaside %+v", r)
	}
	d.Unload()
}

func TestLeakIsReported(t *testing.T) {
	d, p := loadDisk(t, extentSize)
	d.Write(0, []byte("data"))
	if !d.Leak(100) {
		t.Fatal("Leak failed")
	}
	leaks := d.Unload()
	if len(leaks) != 1 || leaks[0].Tag != tagData || leaks[0].Outstanding() != 1 {
		t.Fatalf("leak report %+v, want one %v allocation", leaks, tagData)
	}
	for _, tag := range Tags {
		if st, _ := p.PoolUsed(tag); tag != tagData && st.Outstanding() != 0 {
			t.Fatalf("tag %v still has %d allocations", tag, st.Outstanding())
		}
	}
}

func TestConcurrentClients(t *testing.T) {
	d, _ := loadDisk(t, 8*extentSize)
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				off := uintptr(c*extentSize + i*8)
				msg := []byte(fmt.Sprintf("%02d:%04d.", c, i))[:8]
				if st := d.Write(off, msg); st != ntstatus.Success {
					t.Error(st)
					return
				}
				if got, _ := d.Read(off, 8); !bytes.Equal(got, msg) {
					t.Errorf("client %d read %q, want %q", c, got, msg)
					return
				}
			}
		}()
	}
	wg.Wait()
	if leaks := d.Unload(); len(leaks) != 0 {
		t.Fatalf("leaks: %+v", leaks)
	}
}

func TestConsoleCommand(t *testing.T) {
	extest.Setup(t)
	var out strings.Builder
	script := "ramdisk load 0x4000; ramdisk write ffa hello world; ramdisk read 0n4090 0n11; ramdisk stat; " +
		"ramdisk leak; ramdisk unload"
	if err := console.RunScript(&out, script); err != nil {
		t.Fatal(err)
	}
	// Refused commands: each fails, so each gets its own Execute.
	for _, refused := range []string{"ramdisk read 0 1", "ramdisk"} {
		if err := console.Execute(&out, refused); err == nil {
			t.Errorf("%s: no error", refused)
		}
	}
	for _, want := range []string{
		"ramdisk loaded: 16384 bytes",
		"wrote 11 bytes at 0xffa",
		`"hello world"`,
		"extents 2",
		"leaked 100 bytes under tag RdDt",
		"ramdisk unloaded: LEAKS",
		"RdDt 1 allocations",
		"ramdisk: not loaded",
		"usage: ramdisk",
	} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("missing %q in:\n%s", want, out.String())
		}
	}
}
