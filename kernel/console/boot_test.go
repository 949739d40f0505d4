//go:build !hostfuzz

package console_test

// Linking ntgo/boot makes this package's test binary bootable, so
// `make ktest PKG=./kernel/console` runs these tests inside the kernel.
// Fuzzing builds without it (-tags hostfuzz): the fuzzer's coverage
// counters would overflow the boot code's nosplit stack limits.
import _ "ntgo/boot"
