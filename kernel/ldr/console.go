package ldr

import (
	"fmt"
	"io"
	"strings"

	"ntgo/kernel/console"
	"ntgo/kernel/kd"
	"ntgo/mm/ex"
	"ntgo/mm/pool"
)

func init() {
	console.Register(console.Command{Name: "lm", Help: "loaded modules: the kernel image and drivers, with their pool tags in use", Run: cmdLm})
}

func cmdLm(w io.Writer, args []string) error {
	if len(args) != 0 {
		return console.ErrUsage
	}
	usage := map[pool.Tag]pool.TagStat{}
	for _, s := range ex.Pools().PoolMon() {
		usage[s.Tag] = s
	}
	fmt.Fprintf(w, "%-17s %-17s %-10s %-22s %s\n", "start", "end", "module", "package", "pool tags (allocations/bytes in use)")
	for _, m := range Modules() {
		fmt.Fprintf(w, "%-17s %-17s %-10s %-22s %s\n", span(m.Start), span(m.End), m.Name, m.Package, tagUsage(m.Tags, usage))
	}
	return nil
}

// span prints an image address, or "-" for a module inside the image.
func span(a uintptr) string {
	if a == 0 {
		return "-"
	}
	return kd.FormatAddress(uint64(a))
}

// tagUsage lists tags with their outstanding allocations and bytes.
func tagUsage(tags []pool.Tag, usage map[pool.Tag]pool.TagStat) string {
	var b strings.Builder
	for i, t := range tags {
		if i > 0 {
			b.WriteByte(' ')
		}
		s := usage[t]
		fmt.Fprintf(&b, "%v %d/%d", t, s.Outstanding(), s.Bytes())
	}
	return b.String()
}
