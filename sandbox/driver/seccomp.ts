// The sandbox's seccomp profile. Docker's default profile cannot be used (runc inside needs the
// keyring calls it refuses), but "unconfined" leaves every syscall open. This profile allows by
// default and refuses, with EPERM, the calls a Docker-in-Docker sandbox never needs and that reach
// host-global state or old kernel attack surface. Inner containers still get the inner engine's
// own default profile on top (seccomp filters stack).
const REFUSED: Record<string, string[]> = {
  'loading or replacing the kernel': ['init_module', 'finit_module', 'delete_module', 'kexec_load', 'kexec_file_load', 'reboot'],
  'host-global clocks, swap and accounting': ['settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex', 'swapon', 'swapoff', 'acct'],
  'the kernel log and raw I/O ports': ['syslog', 'iopl', 'ioperm'],
  'file handles (the classic container escape)': ['open_by_handle_at', 'name_to_handle_at'],
  'kernel attack surface no lab needs': ['bpf', 'perf_event_open', 'userfaultfd', 'lookup_dcookie', 'quotactl', 'uselib', 'nfsservctl'],
  // io_uring: open to root in a user namespace and behind many recent kernel exploits; Docker, runc
  // and containerd do not use it, and libuv (Node) falls back to threads when it is refused.
  'io_uring (a large kernel attack surface)': ['io_uring_setup', 'io_uring_enter', 'io_uring_register'],
};

export const SANDBOX_SECCOMP_PROFILE = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [{ names: Object.values(REFUSED).flat(), action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
};

/** The value for HostConfig.SecurityOpt (the engine API takes the profile itself, not a path). */
export function seccompSecurityOpt(): string {
  return `seccomp=${JSON.stringify(SANDBOX_SECCOMP_PROFILE)}`;
}
