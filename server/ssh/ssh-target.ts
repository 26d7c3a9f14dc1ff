// Which session and node an ssh login is for: the user name `node<N>.<session id>`. Pure.

export interface SshTarget {
  node: number;
  sessionId: string;
}

export function parseSshUser(user: unknown): SshTarget | undefined {
  if (typeof user !== 'string') return undefined;
  const m = /^node([1-9][0-9]?)\.([A-Za-z0-9_-]{6,64})$/.exec(user);
  return m ? { node: Number(m[1]), sessionId: m[2]! } : undefined;
}
