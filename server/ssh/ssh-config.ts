// SSH_PORT and friends, read by the composition root (main.ts). Pure. Off unless SSH_PORT is set.

export interface SshConfig {
  port: number;
  /** Listen address (default: HOST's). */
  host: string;
}

export class SshConfigError extends Error {}

export function loadSshConfig(env: Record<string, string | undefined>, defaultHost: string): SshConfig | undefined {
  const raw = env.SSH_PORT?.trim();
  if (!raw) return undefined;
  const port = Number(raw);
  // 0 picks a free port (tests); the page then shows the port actually bound.
  if (!/^\d+$/.test(raw) || port > 65535) throw new SshConfigError(`SSH_PORT must be a port number (0-65535), got "${env.SSH_PORT}"`);
  return { port, host: env.SSH_HOST?.trim() || defaultHost };
}
