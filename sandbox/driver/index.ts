// Public surface of the sandbox runtime.
export * from './types.ts';
export { createDockerSandboxDriver, DEFAULT_LIMITS, SANDBOX_TUNING, type DockerSandboxDriverConfig } from './docker-driver.ts';
export { createEngineClient } from './engine-client.ts';
export { normalizeImageName, templateKey } from './templates.ts';
