package consoletest

import (
	"path/filepath"
	"testing"

	ntqemu "ntgo/qemu"
)

// Every boot has a page file disk: the default 256 MiB, or the size asked
// for, on microvm's virtio-mmio or pc's PCI, found by the driver and named
// at boot; `disk write` refuses the paging file's disk (its slots hold
// paged-out pages) and `disk read` reads it.
func TestPageFileBootLine(t *testing.T) {
	for _, c := range []struct{ machine, size, line string }{
		{"microvm", "", "virtio0: 262144 KiB virtio block disk (virtio-mmio at 0xfeb02e00, GSI 47)"},
		{"microvm", "16M", "virtio0: 16384 KiB virtio block disk"},
		{"pc", "", "virtio0: 262144 KiB virtio block disk (virtio-pci 00:04.0, GSI 11)"},
	} {
		t.Run(c.machine+",size="+c.size, func(t *testing.T) {
			vm := bootVM(t, ntqemu.Config{Machine: c.machine, PageFileSize: c.size, Batch: true,
				Args: []string{"run=disk read 20 3; lm; disk write 20 5a 2"}})
			expect(t, vm, c.line)
			expect(t, vm, "page 0x20: 4096 bytes of 00", "page 0x21: 4096 bytes of 00", "page 0x22: 4096 bytes of 00",
				"virtioblk  ntgo/drivers/virtioblk VbEx 1/",
				"disk: virtio0 holds the paging file: writes refused: STATUS_ACCESS_DENIED")
			expectExit(t, vm, 1) // the refused write ends the run= script
		})
	}
}

// PAGEFILE=0 boots without a disk on either machine: the boot says there
// is no page file, and `disk` fails. A disk on a legacy (virtio 0.9.5)
// virtio-mmio transport is named and left alone.
func TestNoPageFile(t *testing.T) {
	legacy := []string{"-global", "virtio-mmio.force-legacy=true"}
	for _, c := range []struct {
		name string
		cfg  ntqemu.Config
		line string
	}{
		{"PAGEFILE=0", ntqemu.Config{PageFileSize: "0"}, ""},
		{"pc,PAGEFILE=0", ntqemu.Config{Machine: "pc", PageFileSize: "0"}, ""},
		{"legacy", ntqemu.Config{Extra: legacy}, "virtioblk: legacy virtio-mmio disk at 0xfeb02e00 ignored"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Batch = true
			c.cfg.Args = []string{"run=disk"}
			vm := bootVM(t, c.cfg)
			if c.line != "" {
				expect(t, vm, c.line)
			}
			expect(t, vm, "no page file on this machine (no virtio block disk)",
				"kd> disk", "disk: no page file on this machine")
			expectExit(t, vm, 1)
		})
	}
}

// blkdebug in front of the page file fails the first read of page 0x30: it
// comes back as STATUS_IO_DEVICE_ERROR, nothing hangs, and the same
// request succeeds the second time. (Failed writes: paging_test.go's
// writer test; `disk write` refuses this disk.)
func TestPageFileErrors(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "blkdebug.conf")
	if err := ntqemu.BlkDebugConfig(conf,
		ntqemu.BlkDebugRule{Event: "read_aio", Sector: 0x30 * 8, Once: true}); err != nil {
		t.Fatal(err)
	}
	vm := bootVM(t, ntqemu.Config{BlkDebug: conf})
	expect(t, vm, "kd> ")
	for _, step := range []struct{ command, want string }{
		{"disk read 30", "disk: virtio0: read of 1 pages at page 0x30: STATUS_IO_DEVICE_ERROR"},
		{"disk read 30", "page 0x30: 4096 bytes of 00"},
		{"disk write 31 7", "disk: virtio0 holds the paging file: writes refused: STATUS_ACCESS_DENIED"},
		{"disk", "1 reads (1 pages), 0 writes (0 pages), 1 failed"},
	} {
		vm.Console.SendLine(step.command)
		expect(t, vm, step.want, "kd> ")
	}
	vm.Console.SendLine("poweroff 0")
	expectExit(t, vm, 0)
}
