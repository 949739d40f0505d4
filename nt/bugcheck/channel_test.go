package bugcheck

import (
	"errors"
	"testing"
)

// Every status, with and without a bugcheck code, survives the channel, and
// what the kernel did not write (nothing, a cut record, junk) is told apart.
func TestChannelRoundTrip(t *testing.T) {
	var buf [RecordMax]byte
	for s := 0; s < 256; s++ {
		for _, want := range []ExitRecord{
			{Status: uint8(s)},
			{Status: uint8(s), Bugcheck: true, Code: Code(s) * 0x01010101},
		} {
			line := buf[:want.Encode(&buf)]
			booted, ended, got, err := ParseChannel(append([]byte(BootMarker), line...))
			if err != nil || !booted || !ended || got != want {
				t.Fatalf("%+v encoded as %q decodes as booted %v ended %v %+v, %v", want, line, booted, ended, got, err)
			}
			// A record cut short is not a record.
			for cut := 1; cut < len(line); cut++ {
				if _, ended, _, _ := ParseChannel(append([]byte(BootMarker), line[:cut]...)); ended {
					t.Fatalf("%q cut to %q decodes as a record", line, line[:cut])
				}
			}
		}
	}
	if n := (ExitRecord{Bugcheck: true, Code: ^Code(0)}).Encode(&buf); string(buf[:n]) != "ntgo: exit 000 bugcheck 0xFFFFFFFF\n" || n != RecordMax {
		t.Errorf("longest record %q (%d bytes, RecordMax %d)", buf[:n], n, RecordMax)
	}
}

func TestChannelStates(t *testing.T) {
	for _, tc := range []struct {
		in            string
		booted, ended bool
		garbled       bool
	}{
		{"", false, false, false},
		{"ntgo: bo", false, false, false},
		{BootMarker, true, false, false},
		{BootMarker + "ntgo: exit 003\n", true, true, false},
		{"hello", false, false, true},
		{BootMarker + "ntgo: exit 256\n", true, false, true},
		{BootMarker + "ntgo: exit 003\nntgo: exit 004\n", true, false, true},
		{BootMarker + "ntgo: exit 003 bugcheck 0xC2\n", true, false, true},
	} {
		booted, ended, _, err := ParseChannel([]byte(tc.in))
		if booted != tc.booted || ended != tc.ended || errors.Is(err, ErrChannelGarbled) != tc.garbled {
			t.Errorf("%q: booted %v ended %v err %v; want %v %v garbled %v", tc.in, booted, ended, err, tc.booted, tc.ended, tc.garbled)
		}
	}
}
