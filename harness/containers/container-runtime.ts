// Is there a container engine testcontainers can use? Asked once per process: testcontainers tries its strategies
// (DOCKER_HOST, ~/.testcontainers.properties, the Docker socket, rootless and colima sockets) and, with no engine,
// fails in milliseconds with "Could not find a working container runtime strategy". Having a `docker` CLI is not
// enough: it is the engine (daemon) that matters, and these machines have none.
import { getContainerRuntimeClient } from 'testcontainers';

export type ContainerRuntimeStatus = { available: true } | { available: false; reason: string };

/** Longest we wait for testcontainers' answer (a DOCKER_HOST pointing at a dead TCP address could hang). */
const DETECT_TIMEOUT_MS = 15_000;

export const NO_RUNTIME_ADVICE = 'set SDGRADE_DATABASE_URL / SDGRADE_REDIS_URL or use the embedded defaults';

let cached: Promise<ContainerRuntimeStatus> | null = null;

/** Never rejects. The first answer is kept for the life of the process. */
export function detectContainerRuntime(): Promise<ContainerRuntimeStatus> {
  cached ??= detect();
  return cached;
}

async function detect(): Promise<ContainerRuntimeStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer from testcontainers within ${DETECT_TIMEOUT_MS / 1000} s`)),
      DETECT_TIMEOUT_MS,
    );
    timer.unref();
  });
  try {
    await Promise.race([getContainerRuntimeClient(), timeout]);
    return { available: true };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { available: false, reason: `no container runtime: ${message.replace(/\.$/, '')}; ${NO_RUNTIME_ADVICE}` };
  } finally {
    clearTimeout(timer);
  }
}
