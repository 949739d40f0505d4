package ramdisk_test

// Linking the boot package makes this test binary bootable, so the tests
// also run inside the kernel (make ktest PKG=./drivers/ramdisk).
import _ "ntgo/boot"
