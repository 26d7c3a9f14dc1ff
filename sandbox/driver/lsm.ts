// The host's Linux security module and what sandboxes get from it. Docker's docker-default AppArmor
// profile denies every mount, which Docker-in-Docker needs; our own profile (host/apparmor/
// lablab-sandbox, loaded by setup.sh) allows those and denies the host-global kernel filesystems and
// files. The user namespace is the boundary either way (userns.ts); the profile is a second line.
export interface LsmFacts {
  apparmor: boolean;
  /** Our profile is loaded in the kernel. */
  profileLoaded: boolean;
  /** SELinux is present and enforcing. */
  selinuxEnforcing: boolean;
}

export const APPARMOR_PROFILE = 'lablab-sandbox';

export function readLsmFacts(read: (p: string) => string): LsmFacts {
  const get = (p: string) => {
    try {
      return read(p);
    } catch {
      return '';
    }
  };
  const apparmor = get('/sys/module/apparmor/parameters/enabled').trim() === 'Y';
  const profiles = apparmor ? get('/sys/kernel/security/apparmor/profiles') : '';
  return {
    apparmor,
    profileLoaded: profiles.split('\n').some((l) => l.startsWith(`${APPARMOR_PROFILE} (`)),
    selinuxEnforcing: get('/sys/fs/selinux/enforce').trim() === '1',
  };
}

export type LsmDecision = { ok: true; securityOpt?: string; line: string } | { ok: false; line: string; reason: string };

export function decideLsm(f: LsmFacts): LsmDecision {
  if (f.selinuxEnforcing) {
    const reason = 'SELinux is enforcing on this host, and sandboxes have not been tested under SELinux; run on a host with AppArmor or none, or set SELinux to permissive';
    return { ok: false, reason, line: `LSM: SELinux enforcing: refusing to start sandboxes (${reason})` };
  }
  if (f.apparmor && f.profileLoaded) return { ok: true, securityOpt: `apparmor=${APPARMOR_PROFILE}`, line: `LSM: AppArmor; sandboxes get the ${APPARMOR_PROFILE} profile (mounts allowed, kernel filesystems and host-global knobs denied)` };
  if (f.apparmor) {
    return {
      ok: true,
      securityOpt: 'apparmor=unconfined',
      line: `LSM: AppArmor, but the ${APPARMOR_PROFILE} profile is not loaded (run sandbox/host/setup.sh): sandboxes run unconfined by AppArmor, held by their user namespace alone (docker-default would deny the mounts Docker-in-Docker needs)`,
    };
  }
  return { ok: true, line: 'LSM: none (no AppArmor, no SELinux): sandboxes are held by their user namespace, seccomp profile and cgroups' };
}
