package ldr

import (
	"strings"
	"testing"

	"ntgo/kernel/ntstatus"
	"ntgo/mm/ex"
	"ntgo/mm/ex/extest"
	"ntgo/mm/pool"
)

func TestLoadUnload(t *testing.T) {
	tag := pool.MakeTag("LdTs")
	if st := Load(Module{Name: "ldrtest", Package: "ntgo/kernel/ldr", Tags: []pool.Tag{tag}}); st != ntstatus.Success {
		t.Fatal(st)
	}
	defer Unload("ldrtest")
	if st := Load(Module{Name: "ldrtest"}); st != ntstatus.ObjectNameCollision {
		t.Fatalf("second load: %v", st)
	}
	found := false
	for _, m := range Modules() {
		if m.Name == "ldrtest" {
			found = m.Tags[0] == tag
		}
	}
	if !found {
		t.Fatalf("module missing or incomplete in %v", Modules())
	}
	if !Unload("ldrtest") || Unload("ldrtest") {
		t.Fatal("unload did not remove exactly once")
	}
}

// lm shows each module's tags with what they hold in the pools.
func TestLmShowsTagUsage(t *testing.T) {
	extest.Setup(t)
	tag := pool.MakeTag("LdLm")
	Load(Module{Name: "lmtest", Package: "ntgo/kernel/ldr", Tags: []pool.Tag{tag}})
	defer Unload("lmtest")
	p := ex.AllocatePoolWithTag(pool.NonPagedPool, 100, tag)
	defer ex.FreePoolWithTag(p, tag)
	var b strings.Builder
	if err := cmdLm(&b, nil); err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, "lmtest") {
			line = l
		}
	}
	if !strings.Contains(line, "LdLm 1/") || !strings.Contains(line, "ntgo/kernel/ldr") {
		t.Fatalf("lm line %q\n%s", line, b.String())
	}
}
