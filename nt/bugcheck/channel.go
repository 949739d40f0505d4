// The status channel: how the host learns that the kernel ran and why it
// ended, out of band from the console (whose bytes a kernel can print
// anything into) and from QEMU's exit code (which QEMU also uses for its own
// failures).
//
// The kernel writes bytes to ChannelPort, where the launcher puts QEMU's
// isa-debugcon device with a file in a directory the launcher owns. The
// kernel writes BootMarker first thing in its boot entry, before the Go
// runtime starts, and one exit record as the last thing before every
// power-off:
//
//	ntgo: boot
//	ntgo: exit 200
//	ntgo: exit 066 bugcheck 0x000000C2
//
// The status is three decimal digits (the full byte, where isa-debug-exit's
// exit code keeps 7 bits); a bugcheck's record adds its code, since several
// codes share a status (exitstatus.go). The kernel side (Encode) runs in trap
// context without the runtime: it is nosplit and fills a fixed buffer. The
// host side (ParseChannel) is the launcher's.

package bugcheck

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

const (
	// ChannelPort is the I/O port of QEMU's isa-debugcon device (its
	// default, Bochs' 0xE9 hack port).
	ChannelPort = 0xE9
	// BootMarker is the first line the kernel writes on the channel.
	BootMarker = "ntgo: boot\n"

	exitPrefix    = "ntgo: exit "
	bugcheckInfix = " bugcheck 0x"
	statusDigits  = 3
	codeDigits    = 8
	hexDigits     = "0123456789ABCDEF"

	// RecordMax is the longest exit record, a bugcheck's.
	RecordMax = len(exitPrefix) + statusDigits + len(bugcheckInfix) + codeDigits + 1
)

// ExitRecord is why a run ended.
type ExitRecord struct {
	Status   uint8 // the power-off status, the launcher's exit status
	Bugcheck bool  // the run ended in a bugcheck
	Code     Code  // the bugcheck's code, when Bugcheck
}

// Offsets in a record (constant, so that Encode has no bounds checks: it
// runs in trap context, where a bounds panic cannot be raised).
const (
	statusOff = len(exitPrefix)
	infixOff  = statusOff + statusDigits
	codeOff   = infixOff + len(bugcheckInfix)
)

// Encode writes r's line into buf and returns its length.
//
//go:nosplit
func (r ExitRecord) Encode(buf *[RecordMax]byte) int {
	for i := 0; i < len(exitPrefix); i++ {
		buf[i] = exitPrefix[i]
	}
	buf[statusOff] = '0' + r.Status/100
	buf[statusOff+1] = '0' + r.Status/10%10
	buf[statusOff+2] = '0' + r.Status%10
	if !r.Bugcheck {
		buf[infixOff] = '\n'
		return infixOff + 1
	}
	for i := 0; i < len(bugcheckInfix); i++ {
		buf[infixOff+i] = bugcheckInfix[i]
	}
	for d := 0; d < codeDigits; d++ {
		buf[codeOff+d] = hexDigits[r.Code>>(4*(codeDigits-1-d))&0xF]
	}
	buf[RecordMax-1] = '\n'
	return RecordMax
}

// ErrChannelGarbled means the channel holds something the kernel does not
// write: another program's bytes on the port, or a record cut short.
var ErrChannelGarbled = errors.New("status channel garbled")

// ParseChannel reads the channel's contents: whether the kernel booted, and
// its exit record if it wrote one (ended).
func ParseChannel(b []byte) (booted, ended bool, rec ExitRecord, err error) {
	s, booted := strings.CutPrefix(string(b), BootMarker)
	switch {
	case !booted && strings.HasPrefix(BootMarker, s):
		return false, false, rec, nil // nothing, or the marker cut short
	case !booted:
		return false, false, rec, fmt.Errorf("%w: %q", ErrChannelGarbled, b)
	case s == "":
		return true, false, rec, nil
	}
	line, ok := strings.CutSuffix(s, "\n")
	if !ok || strings.Contains(line, "\n") {
		return true, false, rec, fmt.Errorf("%w after the boot marker: %q", ErrChannelGarbled, s)
	}
	rest, ok := strings.CutPrefix(line, exitPrefix)
	if !ok || len(rest) < statusDigits {
		return true, false, rec, fmt.Errorf("%w: %q", ErrChannelGarbled, line)
	}
	status, err := strconv.ParseUint(rest[:statusDigits], 10, 8)
	if err != nil {
		return true, false, rec, fmt.Errorf("%w: status in %q", ErrChannelGarbled, line)
	}
	rec.Status = uint8(status)
	rest = rest[statusDigits:]
	if rest == "" {
		return true, true, rec, nil
	}
	hex, ok := strings.CutPrefix(rest, bugcheckInfix)
	if !ok || len(hex) != codeDigits {
		return true, false, rec, fmt.Errorf("%w: %q", ErrChannelGarbled, line)
	}
	code, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return true, false, rec, fmt.Errorf("%w: code in %q", ErrChannelGarbled, line)
	}
	rec.Bugcheck, rec.Code = true, Code(code)
	return true, true, rec, nil
}
