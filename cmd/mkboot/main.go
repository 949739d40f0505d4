// Command mkboot makes a linked ntgo binary bootable by QEMU's -kernel
// loader; see package ntgo/boot/image for how.
package main

import (
	"flag"
	"log"

	"ntgo/boot/image"
)

func main() {
	in := flag.String("in", "", "linked ELF")
	out := flag.String("out", "", "bootable ELF to write (may equal -in)")
	flag.Parse()
	if *in == "" || *out == "" {
		log.Fatal("usage: mkboot -in linked.elf -out kernel.elf")
	}
	if err := image.PatchFile(*in, *out); err != nil {
		log.Fatalf("mkboot: %v", err)
	}
}
