// DriverEntry's boot line and the `disk` console command: the disk
// exercised by hand, a few pages at a time, through the same MDL path the
// memory manager uses (non-paged pool buffers under tagIO).

package virtioblk

import (
	"errors"
	"fmt"
	"io"
	"unsafe"

	"ntgo/kernel/console"
	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/nt/ntstatus"
)

// NoPageFile is the boot line of a machine without a virtio disk.
const NoPageFile = "no page file on this machine (no virtio block disk)"

// DriverEntry probes for disks and says at boot what it found. The
// memory manager takes the first disk as its paging file
// (mm.AddPagingFile), which the boot line after the disks' says.
func DriverEntry() ntstatus.Status {
	ds, err := Probe()
	if err != nil {
		fmt.Println(err)
		return ntstatus.DeviceNotReady
	}
	if len(ds) == 0 {
		fmt.Println(NoPageFile)
		return ntstatus.Success
	}
	for _, d := range ds {
		fmt.Println(d.BootLine())
	}
	if st := mm.AddPagingFile(ds[0]); st != ntstatus.Success {
		fmt.Printf("no paging file on %s: %v\n", ds[0].Name(), st)
		return st
	}
	fmt.Printf("paging file: %d KiB on %s\n", ds[0].Size()>>10, ds[0].Name())
	return ntstatus.Success
}

// BootLine is the disk's line at boot.
func (d *Disk) BootLine() string {
	return fmt.Sprintf("%s: %d KiB virtio block disk (%s, GSI %d)", d.name, d.Size()>>10, d.t.location(), d.t.gsi())
}

func init() {
	console.Register(console.Command{Name: "disk",
		Args: "[read <page> [pages] | write <page> <byte> [pages]]",
		Help: "the virtio disk: counters, or read/write whole pages by hand (writes refused on the paging file's disk)",
		Run:  cmdDisk})
}

// maxCommandPages bounds one `disk` transfer: one 16-page cluster.
const maxCommandPages = 16

var errNoDisk = errors.New(NoPageFile)

func cmdDisk(w io.Writer, args []string) error {
	ds, err := Probe()
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		return errNoDisk
	}
	if len(args) == 0 {
		for _, d := range ds {
			writeStats(w, d.Stats())
		}
		return nil
	}
	d := ds[0]
	write := args[0] == "write"
	if write && mm.PagingFile() == mm.PagingDevice(d) {
		// Its slots hold paged-out pages: a write by hand would corrupt them.
		return fmt.Errorf("%s holds the paging file: writes refused: %w", d.name, ntstatus.AccessDenied)
	}
	var fill uint64
	switch {
	case args[0] == "read" && (len(args) == 2 || len(args) == 3):
		args = args[1:]
	case write && (len(args) == 3 || len(args) == 4):
		if fill, err = console.Bounded(args[2], 0, 0xFF); err != nil {
			return err
		}
		args = append([]string{args[1]}, args[3:]...)
	default:
		return console.ErrUsage
	}
	total := d.Size() / physmem.PageSize
	page, err := console.Bounded(args[0], 0, total-1)
	if err != nil {
		return err
	}
	pages := uint64(1)
	if len(args) == 2 {
		if pages, err = console.Bounded(args[1], 1, min(maxCommandPages, total-page)); err != nil {
			return err
		}
	}
	buf, m, st := NewBuffer(uintptr(pages))
	if st.IsError() {
		return st
	}
	defer FreeBuffer(buf, m)
	b := unsafe.Slice((*byte)(buf), pages*physmem.PageSize)
	off := page * physmem.PageSize
	if write {
		for i := range b {
			b[i] = byte(fill)
		}
		if st := d.WritePages(off, m); st.IsError() {
			return fmt.Errorf("%s: write of %d pages at page %#x: %w", d.name, pages, page, st)
		}
		fmt.Fprintf(w, "%s: wrote %d pages of %02x at page %#x\n", d.name, pages, fill, page)
		return nil
	}
	if st := d.ReadPages(off, m); st.IsError() {
		return fmt.Errorf("%s: read of %d pages at page %#x: %w", d.name, pages, page, st)
	}
	for p := range pages {
		pb := b[p*physmem.PageSize : (p+1)*physmem.PageSize]
		same := true
		for _, c := range pb {
			same = same && c == pb[0]
		}
		if same {
			fmt.Fprintf(w, "page %#x: %d bytes of %02x\n", page+p, len(pb), pb[0])
		} else {
			fmt.Fprintf(w, "page %#x: % x ...\n", page+p, pb[:16])
		}
	}
	return nil
}

func writeStats(w io.Writer, s Stats) {
	ro := ""
	if s.ReadOnly {
		ro = ", read-only"
	}
	fmt.Fprintf(w, "%s: %d KiB%s, %s, GSI %d on vector %#x, %d descriptors\n", s.Name, s.Capacity>>10, ro, s.Location, s.GSI, s.Vector, s.QueueSize)
	fmt.Fprintf(w, "  requests: %d reads (%d pages), %d writes (%d pages), %d failed; %d reads started by the page-fault handler\n",
		s.Reads, s.PagesRead, s.Writes, s.PagesWritten, s.Errors, s.PageIns)
	fmt.Fprintf(w, "  in flight: %d now, %d at most, %d waited for descriptors; %d completions, %d interrupts\n", s.InFlight, s.MaxInFlight, s.RoomWaits, s.Completions, s.Interrupts)
}

// NewBuffer allocates pages whole pages of non-paged pool under the
// driver's tagIO and an MDL describing them, ready for ReadPages and
// WritePages.
func NewBuffer(pages uintptr) (unsafe.Pointer, *mm.Mdl, ntstatus.Status) {
	n := pages * physmem.PageSize
	buf := ex.AllocatePoolWithTag(pool.NonPagedPool, n, tagIO)
	if buf == nil {
		return nil, nil, ntstatus.InsufficientResources
	}
	m := mm.AllocateMdl(buf, uint32(n))
	if m == nil {
		ex.FreePoolWithTag(buf, tagIO)
		return nil, nil, ntstatus.InsufficientResources
	}
	mm.BuildMdlForNonPagedPool(m)
	return buf, m, ntstatus.Success
}

// FreeBuffer frees what NewBuffer allocated.
func FreeBuffer(buf unsafe.Pointer, m *mm.Mdl) {
	mm.FreeMdl(m)
	ex.FreePoolWithTag(buf, tagIO)
}
