package ke_test

// Linking the boot package makes this test binary bootable, so the tests
// also run inside the kernel (make ktest PKG=./kernel/ke).
import _ "ntgo/boot"
