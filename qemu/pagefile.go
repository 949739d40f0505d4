// The page file's disk: a sparse raw image attached as a virtio block device
// (virtio-mmio on microvm, virtio-pci on pc), optionally behind QEMU's
// blkdebug error injector so that tests can fail its reads or writes.
//
// Every boot gets a fresh image: the one Config.PageFile names (emptied
// and resized, so it stays sparse), or, by default, one in the Boot's own
// directory, so QEMUs running at once (parallel tests) never share an
// image, and it goes away with the Boot.
//
// blkdebug (QEMU's block/blkdebug.c, docs/devel/blkdebug) reads a config
// file of sections such as
//
//	[inject-error]
//	event = "read_aio"     # or "write_aio"
//	errno = "5"            # EIO: the device completes with VIRTIO_BLK_S_IOERR
//	sector = "2048"        # only requests touching this sector (default: all)
//	once = "off"           # "on": fail the first matching request only
//
// BlkDebugConfig writes such a file.

package qemu

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultPageFileSize is the page file's size unless Config.PageFileSize
// says otherwise.
const DefaultPageFileSize = "256M"

// PageFileVar is the environment variable that sets the page file size of
// every boot whose Config does not (make's PAGEFILE=).
const PageFileVar = "NTGO_PAGEFILE"

// pageFileName is the default image's name in the Boot's directory.
const pageFileName = "pagefile.img"

// ParseSize reads a size as QEMU's -m and PAGEFILE= write it: a number of
// bytes with an optional K, M, G or T suffix (binary units).
func ParseSize(s string) (int64, error) {
	shift := 0
	if n := len(s); n > 0 {
		switch strings.ToUpper(s[n-1:]) {
		case "K":
			shift = 10
		case "M":
			shift = 20
		case "G":
			shift = 30
		case "T":
			shift = 40
		}
		if shift != 0 {
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseUint(s, 10, 63)
	if err != nil || v > (1<<62)>>shift {
		return 0, fmt.Errorf("size %q: want bytes with an optional K, M, G or T suffix", s)
	}
	return int64(v) << shift, nil
}

// pageFileSize is c's page file size in bytes: 0 for none.
func (c Config) pageFileSize() (int64, error) {
	s := c.PageFileSize
	if s == "" {
		s = os.Getenv(PageFileVar)
	}
	if s == "" {
		s = DefaultPageFileSize
	}
	n, err := ParseSize(s)
	if err != nil {
		return 0, fmt.Errorf("page file: %w", err)
	}
	if n%4096 != 0 {
		return 0, fmt.Errorf("page file: size %s is not a whole number of 4 KiB pages", s)
	}
	return n, nil
}

// preparePageFile creates the run's image (sparse, size bytes) and returns
// its path, or "" when the run has none.
func (c Config) preparePageFile(dir string) (string, error) {
	size, err := c.pageFileSize()
	if err != nil || size == 0 {
		return "", err
	}
	path := c.PageFile
	if path == "" {
		path = filepath.Join(dir, pageFileName)
	}
	if strings.Contains(path, ":") && c.BlkDebug != "" {
		return "", fmt.Errorf("page file %q: blkdebug cannot take a path with ':'", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return "", err
	}
	defer f.Close()
	// Emptied first: nothing of an earlier run survives, and no block of
	// the file is allocated until the guest writes it.
	if err := f.Truncate(0); err != nil {
		return "", err
	}
	if err := f.Truncate(size); err != nil {
		return "", err
	}
	return path, nil
}

// pageFileArgs are the QEMU arguments that attach image: the drive,
// through blkdebug when c asks, as a virtio 1.x (non-legacy) device: on
// microvm behind a virtio-mmio transport, which microvm does not default to
// 1.x, on pc as a PCI function.
func (c Config) pageFileArgs(image string) []string {
	file := "file=" + optionValue(image)
	if c.BlkDebug != "" {
		file = "file=" + optionValue("blkdebug:"+c.BlkDebug+":"+image)
	}
	drive := []string{"-drive", file + ",format=raw,if=none,id=pagefile"}
	if c.machine() == "pc" {
		return append(drive, "-device", "virtio-blk-pci,drive=pagefile,disable-legacy=on")
	}
	return append(drive,
		"-global", "virtio-mmio.force-legacy=false",
		"-device", "virtio-blk-device,drive=pagefile")
}

// BlkDebugRule is one [inject-error] section of a blkdebug config.
type BlkDebugRule struct {
	Event  string // "read_aio" or "write_aio"
	Errno  int    // 5 (EIO) unless set
	Sector int64  // only requests touching this 512-byte sector; -1: every one
	Once   bool   // only the first matching request
}

// BlkDebugConfig writes a blkdebug config file with rules to path.
func BlkDebugConfig(path string, rules ...BlkDebugRule) error {
	var b strings.Builder
	for _, r := range rules {
		errno := r.Errno
		if errno == 0 {
			errno = 5
		}
		fmt.Fprintf(&b, "[inject-error]\nevent = %q\nerrno = \"%d\"\n", r.Event, errno)
		if r.Sector >= 0 {
			fmt.Fprintf(&b, "sector = \"%d\"\n", r.Sector)
		}
		if r.Once {
			b.WriteString("once = \"on\"\n")
		}
		b.WriteString("\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
