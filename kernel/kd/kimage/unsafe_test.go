package kimage

import "unsafe"

// counter is a writable variable, whose file bytes are not its value.
var counter = 1

func dataAddress() uintptr { return uintptr(unsafe.Pointer(&counter)) }

// codeAt is the code at pc, read from memory.
func codeAt(pc uintptr) []byte { return unsafe.Slice((*byte)(unsafe.Add(nil, pc)), 16) }
