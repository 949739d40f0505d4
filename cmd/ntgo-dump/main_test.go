package main

import (
	"testing"

	"ntgo/kernel/console"
	"ntgo/kernel/kd/dump"
)

// The viewer offers exactly the dump's commands (and help): no package it
// links registers a live console command, which would run the kernel's
// code on the host.
func TestOnlyDumpCommands(t *testing.T) {
	want := map[string]bool{"help": true}
	for _, c := range (&dump.Dump{}).Commands() {
		want[c.Name] = true
	}
	for _, c := range console.Commands() {
		if !want[c.Name] {
			t.Errorf("the viewer links a live console command: %s", c.Name)
		}
	}
}
