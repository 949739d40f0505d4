// Command ntgo is the kernel: booted by QEMU, it brings up the console.
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"

	_ "ntgo/boot"
)

func main() {
	fmt.Println("hello from ntgo", os.Args, os.Getenv("run"))
	c := make(chan int)
	go func() { time.Sleep(time.Millisecond); c <- 1 }()
	<-c
	runtime.GC()
	fmt.Println("after GC")
	os.Exit(3)
}
