// Offsets into KPCR (kpcr.go) used by assembly; TestKPCRLayout keeps them in
// step with the Go struct.
#define KPCR_SCRATCH_RSP 8
#define KPCR_SYSCALL_STACK 16
#define KPCR_THREAD_FS_BASE 24
#define KPCR_TRAP_TLS 32

#define KERNEL_CS 0x08
#define KERNEL_SS 0x10
#define SYSCALL_VECTOR 256
#define FXSAVE_SIZE 512
