package qemu

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "4096": 4096, "256M": 256 << 20, "1g": 1 << 30, "64K": 64 << 10, "2T": 2 << 40} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M", "-1", "1.5G", "12Q", "99999999999999999999", "8388608T"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

// pageFileBoot prepares c's boot (accelerator fixed: no KVM probe) and
// returns it with its page file argument, "" if none.
func pageFileBoot(t *testing.T, c Config) (*Boot, string) {
	t.Helper()
	c.Kernel, c.Accel = "kernel.elf", "tcg"
	b, err := c.NewBoot()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	args := b.QEMUArgs()
	i := slices.Index(args, "-drive")
	if i < 0 {
		return b, ""
	}
	if c.Machine == "pc" {
		if !slices.Contains(args, "virtio-blk-pci,drive=pagefile,disable-legacy=on") {
			t.Errorf("drive without its virtio-pci device: %q", args)
		}
	} else if !slices.Contains(args, "virtio-blk-device,drive=pagefile") || !slices.Contains(args, "virtio-mmio.force-legacy=false") {
		t.Errorf("drive without its virtio-mmio device: %q", args)
	}
	return b, args[i+1]
}

// Each boot has its own fresh, sparse image in its directory by default;
// a named image is emptied and resized at each boot.
func TestPageFileImage(t *testing.T) {
	t.Setenv(PageFileVar, "")
	b1, d1 := pageFileBoot(t, Config{})
	b2, d2 := pageFileBoot(t, Config{})
	img := filepath.Join(b1.Dir(), pageFileName)
	if d1 != "file="+img+",format=raw,if=none,id=pagefile" || d1 == d2 || !strings.HasPrefix(d2, "file="+b2.Dir()) {
		t.Fatalf("drives %q and %q, want one image in each boot's directory", d1, d2)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(img, &st); err != nil || st.Size != 256<<20 || st.Blocks != 0 {
		t.Fatalf("image: %v, size %d, %d blocks; want 256 MiB, sparse", err, st.Size, st.Blocks)
	}

	named := filepath.Join(t.TempDir(), "pf.img")
	os.WriteFile(named, []byte("left over from the last boot"), 0o644)
	if _, d := pageFileBoot(t, Config{PageFile: named, PageFileSize: "64K"}); d != "file="+named+",format=raw,if=none,id=pagefile" {
		t.Fatalf("drive %q", d)
	}
	if b, err := os.ReadFile(named); err != nil || len(b) != 64<<10 || strings.Contains(string(b), "left") {
		t.Fatalf("named image: %v, %d bytes, old contents kept: %v", err, len(b), strings.Contains(string(b), "left"))
	}
}

// No page file for size 0 on either machine; pc's is a PCI function; the
// environment's size applies when the Config names none.
func TestPageFileSizeAndMachine(t *testing.T) {
	t.Setenv(PageFileVar, "")
	for _, c := range []Config{{PageFileSize: "0"}, {Machine: "pc", PageFileSize: "0"}} {
		if b, d := pageFileBoot(t, c); d != "" {
			t.Errorf("%+v: drive %q, want none", c, d)
		} else if _, err := os.Stat(filepath.Join(b.Dir(), pageFileName)); err == nil {
			t.Errorf("%+v: image created", c)
		}
	}
	if _, d := pageFileBoot(t, Config{Machine: "pc"}); d == "" {
		t.Error("pc: no page file drive")
	}
	t.Setenv(PageFileVar, "1M")
	b, _ := pageFileBoot(t, Config{})
	if fi, err := os.Stat(filepath.Join(b.Dir(), pageFileName)); err != nil || fi.Size() != 1<<20 {
		t.Errorf("with %s=1M: %v", PageFileVar, err)
	}
	if _, err := (Config{Kernel: "k", Accel: "tcg", PageFileSize: "1000"}).NewBoot(); err == nil {
		t.Error("a size that is not whole pages was accepted")
	}
}

func TestBlkDebugDrive(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "bd.conf")
	if err := BlkDebugConfig(conf, BlkDebugRule{Event: "read_aio", Sector: 80, Once: true}, BlkDebugRule{Event: "write_aio", Errno: 28, Sector: -1}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(conf)
	want := "[inject-error]\nevent = \"read_aio\"\nerrno = \"5\"\nsector = \"80\"\nonce = \"on\"\n\n" +
		"[inject-error]\nevent = \"write_aio\"\nerrno = \"28\"\n\n"
	if string(got) != want {
		t.Errorf("config:\n%s\nwant:\n%s", got, want)
	}
	b, d := pageFileBoot(t, Config{BlkDebug: conf})
	if want := "file=blkdebug:" + conf + ":" + filepath.Join(b.Dir(), pageFileName) + ",format=raw,if=none,id=pagefile"; d != want {
		t.Errorf("drive %q, want %q", d, want)
	}
}

// MEM= reaches every boot whose Config leaves the memory to the default.
func TestMemoryFromEnvironment(t *testing.T) {
	t.Setenv(MemoryVar, "64M")
	for c, want := range map[*Config]string{{}: "64M", {Memory: "1G"}: "1G"} {
		c.Kernel, c.Accel, c.PageFileSize = "k", "tcg", "0"
		b, err := c.NewBoot()
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		args := b.QEMUArgs()
		if i := slices.Index(args, "-m"); i < 0 || args[i+1] != want {
			t.Errorf("Memory %q: -m %q, want %q", c.Memory, args[i+1], want)
		}
	}
	t.Setenv(MemoryVar, "")
	if m := (Config{}).memory(); m != DefaultMemory {
		t.Errorf("memory() = %q, want %q", m, DefaultMemory)
	}
}
