import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ResolvedConfig } from '@sluice/core';
import { checkConfiguration } from './validate.js';
import { UsageError } from '../usageError.js';

/** Where a running Sluice's admin API is, and the token to send. */
export interface AdminTarget {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  readonly token: string | undefined;
  /** The configuration directory the address was read from (absent with `--url`). */
  readonly configDir?: string;
}

/**
 * The admin API of the Sluice that runs a configuration directory: `--url` when given, else
 * `http://<sluice.admin.host>:<sluice.admin.port or server.port>` from its application.yml
 * (0.0.0.0/:: become loopback). The token: `--token`, else `SLUICE_ADMIN_TOKEN`, else
 * `sluice.admin.token` from the file.
 */
export async function adminTarget(
  command: string,
  options: { url?: string | undefined; token?: string | undefined; config: string },
): Promise<AdminTarget> {
  const envToken = process.env['SLUICE_ADMIN_TOKEN'] || undefined;
  if (options.url !== undefined) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new UsageError(`sluice ${command}: --url must be an http URL, not "${options.url}".`);
    }
    return { url: url.origin, token: options.token ?? envToken };
  }
  const { result } = await checkConfiguration(options.config);
  const config = result.config;
  if (!result.ok || config === undefined)
    throw new UsageError(
      `sluice ${command}: cannot read the admin address from "${options.config}" (it has errors); pass --url.`,
    );
  return adminTargetOf(config, options.token ?? envToken);
}

/**
 * The admin API address of a loaded configuration (0.0.0.0/:: become loopback); the token is
 * `token` when given, else `sluice.admin.token`.
 */
export function adminTargetOf(config: ResolvedConfig, token: string | undefined): AdminTarget {
  const admin = config.sluice.admin;
  const host = admin.host === '0.0.0.0' ? '127.0.0.1' : admin.host === '::' ? '::1' : admin.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${admin.port}`,
    token: token ?? admin.token,
    configDir: config.dir,
  };
}

/** A failed admin request, with what to do; `status` when the API answered (401). */
export class AdminRequestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** One JSON request to the admin API; throws {@link AdminRequestError} with a readable reason. */
export async function adminRequest<T>(
  target: AdminTarget,
  method: string,
  path: string,
  signal: AbortSignal,
  body?: Record<string, string>,
): Promise<{ status: number; body: T }> {
  let response: Response;
  try {
    response = await fetch(target.url + path, {
      method,
      signal,
      headers: {
        accept: 'application/json',
        ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(body ? { body: new URLSearchParams(body).toString() } : {}),
    });
  } catch (error) {
    if (signal.aborted) throw error;
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new AdminRequestError(
      `no Sluice admin API answers at ${target.url} (${cause}); is \`sluice start\` running with this configuration?`,
    );
  }
  if (response.status === 401)
    throw new AdminRequestError(
      `the admin API at ${target.url} requires a token: pass --token or set SLUICE_ADMIN_TOKEN.`,
      401,
    );
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as T };
  } catch {
    throw new AdminRequestError(
      `${method} ${path} answered ${response.status} with something that is not JSON: ${text.slice(0, 200)}`,
    );
  }
}

/**
 * Whether two configuration directory paths name the same directory (symlinks resolved; a path
 * that cannot be resolved is compared as an absolute path). Used to tell whether the Sluice that
 * answered on an admin address runs the configuration at hand (`/status`'s `instance.configDir`).
 */
export async function sameConfigDir(a: string, b: string): Promise<boolean> {
  const real = (p: string) => realpath(p).catch(() => resolve(p));
  return (await real(a)) === (await real(b));
}
