// Types of the parts of canal.mjs that tests and benchmarks use.
export const CANAL_VERSION: string;
export const CANAL_TCP_PORT: number;
export const CANAL_CONTROL_PORT: number;
/**
 * Compiles (when missing) the launcher and CanalClientCheck of this checkout; resolves with the
 * classes directory and the Java classpath (classes + canal 1.1.7's jars).
 */
export function launcherClasspath(
  say?: (line: string) => void,
): Promise<{ classes: string; classpath: string }>;
