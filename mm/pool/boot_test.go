package pool_test

// Linking the boot package makes this test binary bootable, so the tests
// also run inside the kernel (make ktest PKG=./mm/pool).
import _ "ntgo/boot"
