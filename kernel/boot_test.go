package kernel_test

// Linking ntgo/boot makes this package's test binary bootable, so
// `make ktest PKG=./kernel` runs these tests inside the kernel. The test
// package is external (kernel_test) because boot imports kernel: an internal
// test file importing boot would be an import cycle.
import _ "ntgo/boot"
