package kd

import (
	"runtime"
	"strings"
	"testing"
)

//go:noinline
func stackLeaf() []uintptr {
	pcs := make([]uintptr, 16)
	return pcs[:runtime.Callers(1, pcs)]
}

// stackInlined is small enough to be inlined into stackOuter.
func stackInlined() []uintptr { return stackLeaf() }

//go:noinline
func stackOuter() []uintptr { return stackInlined() }

// runtime.Callers lists an inlined call as a frame of its own: the stack
// must name each function once, the inlined one marked.
func TestStackListsInlinedFramesOnce(t *testing.T) {
	var b strings.Builder
	writeStack(&b, RuntimeSymbols{}, stackOuter())
	text := b.String()
	count := func(name string) int {
		n := 0
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, name) {
				n++
			}
		}
		return n
	}
	if !strings.Contains(text, "ntgo/kernel/kd.stackInlined (inlined)") {
		t.Fatalf("stackInlined is not listed as inlined (was it inlined?):\n%s", text)
	}
	for _, f := range []string{"kd.stackLeaf", "kd.stackInlined", "kd.stackOuter", "kd.TestStackListsInlinedFramesOnce"} {
		if n := count(f); n != 1 {
			t.Errorf("%s listed %d times:\n%s", f, n, text)
		}
	}
}
