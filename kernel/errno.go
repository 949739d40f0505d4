package kernel

// Linux errno values returned (negated) from system calls.
const (
	EPERM     = 1
	ENOENT    = 2
	EINTR     = 4
	EBADF     = 9
	EAGAIN    = 11
	ENOMEM    = 12
	EFAULT    = 14
	EEXIST    = 17
	ENODEV    = 19
	EINVAL    = 22
	ENFILE    = 23
	ENOSYS    = 38
	ETIMEDOUT = 110
)

//go:nosplit
func errno(e uintptr) uintptr { return -e }
