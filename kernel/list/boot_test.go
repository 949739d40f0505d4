package list_test

// Linking the boot package makes this test binary bootable, so the tests
// also run inside the kernel (make ktest PKG=./kernel/list).
import _ "ntgo/boot"
