// lm: the loaded modules (kernel/ldr) with what each one's pool tags hold
// right now (or at the stop), so a leak shows before the unload-time leak
// check reports it.

package mmext

import (
	"fmt"
	"io"
	"strings"

	"ntgo/kernel/kd"
	"ntgo/mm/pool"
)

func (v views) lm(w io.Writer, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	mods, err := v.t.Modules()
	if err != nil {
		return err
	}
	tags, err := v.t.PoolTags()
	if err != nil {
		return err
	}
	usage := map[pool.Tag]pool.TagStat{}
	for _, s := range tags {
		usage[s.Tag] = s
	}
	fmt.Fprintf(w, "%-17s %-17s %-10s %-22s %s\n", "start", "end", "module", "package", "pool tags (allocations/bytes in use)")
	for _, m := range mods {
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
