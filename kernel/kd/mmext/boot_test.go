package mmext_test

// Linking ntgo/boot makes this package's test binary bootable, so
// `make ktest PKG=./kernel/kd/mmext` runs these tests inside the kernel.
import _ "ntgo/boot"
