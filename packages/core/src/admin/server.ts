import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, SluiceError, type Logger } from '@sluice/plugin-api';
import type { AdminRuntime } from './adminRuntime.js';
import { EtlJobs } from './etlJobs.js';
import { isLoopback } from '../config/application/sluiceSettings.js';

/** Options of {@link startAdminServer}. */
export interface AdminServerOptions {
  /** Address to bind; default `127.0.0.1`. Anything but loopback needs `token`. */
  readonly host?: string;
  /** TCP port; canal-adapter's `server.port` (default 8081); 0 picks a free one. */
  readonly port: number;
  /** Bearer token (`sluice.admin.token`): required on every endpoint but `/health/live` when set. */
  readonly token?: string;
  readonly logger: Logger;
}

/** A running admin server. */
export interface AdminServer {
  /** `http://host:port` it listens on. */
  readonly url: string;
  /**
   * Stops accepting requests, cancels running ETL jobs, closes. Requests still in progress get
   * {@link CLOSE_GRACE_MS} to finish; connections left after that are cut, so a client holding
   * one never holds up shutdown.
   */
  close(): Promise<void>;
}

/** How long {@link AdminServer.close} lets requests in progress finish before it cuts them, ms. */
export const CLOSE_GRACE_MS = 1_000;

/** Path segments (adapter types, keys, mapping file names, destinations): no separators, no `..`. */
const SEGMENT = /^(?!\.\.?$)[A-Za-z0-9_.@-]{1,200}$/;
/** The most `params` an ETL takes, and the longest one. */
const MAX_PARAMS = 64;
const MAX_PARAM_LENGTH = 1024;

class BadRequest extends Error {}

function segment(value: unknown, what: string): string {
  if (typeof value !== 'string' || !SEGMENT.test(value))
    throw new BadRequest(`The ${what} is not valid: use letters, digits, ".", "_", "-" and "@".`);
  return value;
}

/** canal's `params`: one string, `;`-separated, trimmed as a whole (behaviour reference §6.2). */
function paramsOf(request: FastifyRequest): string[] {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const body = (request.body ?? {}) as Record<string, unknown>;
  const raw = body['params'] ?? query['params'];
  if (raw === undefined || raw === '') return [];
  if (typeof raw !== 'string')
    throw new BadRequest('params must be one string of values separated by ";".');
  const params = raw.trim().split(';');
  if (params.length > MAX_PARAMS) throw new BadRequest(`At most ${MAX_PARAMS} params.`);
  if (params.some((p) => p.length > MAX_PARAM_LENGTH))
    throw new BadRequest(`A param is longer than ${MAX_PARAM_LENGTH} characters.`);
  return params;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m?.[1]) return false;
  const a = Buffer.from(m[1]);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Starts the admin HTTP API: canal-adapter's REST endpoints with its paths, parameters and JSON
 * shapes (`/etl`, `/count`, `/destinations`, `/syncSwitch`; behaviour reference §6.1) plus
 * `/health/live`, `/health/ready`, `/metrics` (Prometheus), `/status` (what `sluice status` prints)
 * and ETL jobs (`/etl/jobs`).
 *
 * Binds 127.0.0.1 unless told otherwise, and refuses a non-loopback address without a token.
 * Every path segment and parameter is validated (4xx JSON `{ "code", "message" }` otherwise);
 * request logs carry method, route and status, never the Authorization header or params.
 *
 * @throws SluiceError `SLUICE_ERR_CONFIG` for a non-loopback host without a token; the listen
 *   error (port in use) otherwise.
 */
export async function startAdminServer(
  runtime: AdminRuntime,
  options: AdminServerOptions,
): Promise<AdminServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token && options.token !== '' ? options.token : undefined;
  if (!isLoopback(host) && !token)
    throw new SluiceError(
      ErrorCodes.config,
      `The admin API would listen on ${host} without a token: set sluice.admin.token, or bind 127.0.0.1.`,
    );
  const jobs = new EtlJobs(runtime);
  // Loaded here, not at start-up: fastify is ~3 MB of heap that a runtime without the admin API
  // does not need, and a larger heap slows JSON.parse (BENCHMARKS.md, issue 11, session 17).
  const { default: Fastify } = await import('fastify');
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  const log = options.logger;

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  app.addHook('onRequest', async (request, reply) => {
    if (!token || request.url === '/health/live') return;
    if (!tokenMatches(request.headers.authorization, token)) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ code: 'unauthorized', message: 'A valid bearer token is required.' });
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unknown';
    const fields = { method: request.method, route, status: reply.statusCode };
    if (reply.statusCode >= 500) log.warn('Admin request failed.', fields);
    else log.debug('Admin request.', fields);
  });
  app.setErrorHandler(async (error: Error & { statusCode?: number }, _request, reply) => {
    if (error instanceof BadRequest)
      return reply.code(400).send({ code: 'bad-request', message: error.message });
    if (error.statusCode && error.statusCode < 500)
      return reply.code(error.statusCode).send({ code: 'bad-request', message: error.message });
    log.error('Admin request failed.', { error });
    return reply.code(500).send({ code: 'internal', message: error.message });
  });
  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({
      code: 'not-found',
      message: `No endpoint ${request.method} ${request.url.split('?')[0]}.`,
    }),
  );

  // Health and metrics.
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_request, reply) => {
    const checks = runtime.health();
    const ready = checks.every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_request, reply) =>
    reply
      .header('content-type', runtime.metrics.contentType)
      .send(await runtime.metrics.exposition()),
  );

  // Sluice: everything `sluice status` prints.
  app.get('/status', async () => {
    await runtime.refreshStatus?.();
    return runtime.status();
  });

  // canal: destinations and the sync switch.
  app.get('/destinations', async () =>
    runtime
      .destinations()
      .map((destination) => ({ destination, status: runtime.syncSwitch(destination) })),
  );
  app.get('/syncSwitch/:destination', async (request) => {
    const { destination } = request.params as Record<string, string>;
    const state = runtime.syncSwitch(segment(destination, 'destination'));
    // canal ≤ 1.1.7 answers {"stauts":…} (its typo), 1.1.8 {"status":…} (fixed by alibaba/canal
    // #5299): both keys, so a client of either version reads it.
    return { stauts: state, status: state };
  });
  app.put('/syncSwitch/:destination/:status', async (request) => {
    const p = request.params as Record<string, string>;
    const destination = segment(p['destination'], 'destination');
    const status = p['status'];
    // canal's Result bodies and messages (CommonRest.java; null fields omitted), HTTP 200.
    const failed = { code: 50000, message: `实例: ${destination} 操作失败` };
    if (status !== 'on' && status !== 'off') {
      log.warn('Sync switch: unknown status (on or off).', {
        destination,
        status: String(status).slice(0, 20),
      });
      return failed;
    }
    if (!runtime.destinations().includes(destination)) {
      log.warn('Sync switch: the destination is not configured.', { destination });
      return failed;
    }
    await runtime.setSyncSwitch(destination, status);
    log.info(`#Destination: ${destination} sync ${status}`, { destination });
    return {
      code: 20000,
      message: `实例: ${destination} ${status === 'on' ? '开启' : '关闭'}同步成功`,
    };
  });

  // canal: ETL and count.
  const etl = async (request: FastifyRequest, reply: FastifyReply) => {
    const p = request.params as Record<string, string>;
    const type = segment(p['type'], 'adapter type');
    const key = p['key'] === undefined ? undefined : segment(p['key'], 'adapter key');
    const task = segment(p['task'], 'task');
    const params = paramsOf(request);
    const query = (request.query ?? {}) as Record<string, unknown>;
    const started = await jobs.start(type, key, task, params);
    if ('refused' in started) {
      // canal's EtlResult body (HTTP 200 in canal; Sluice says 409 busy / 404 / 503 as well).
      if (started.refused === 'busy')
        log.info('ETL refused: another ETL of this type and destination is running.', {
          type,
          task,
        });
      return reply
        .code(started.refused === 'busy' ? 409 : started.refused === 'unavailable' ? 503 : 404)
        .send({ succeeded: false, errorMessage: started.message });
    }
    if (query['async'] === 'true' || request.headers.prefer === 'respond-async')
      return reply.code(202).send({
        succeeded: true,
        resultMessage: `ETL started as job ${started.id}.`,
        jobId: started.id,
        statusUrl: `/etl/jobs/${started.id}`,
      });
    const status = (await jobs.wait(started.id))!;
    return status.state === 'succeeded'
      ? { succeeded: true, resultMessage: `Imported ${status.rows} ${type} rows.` }
      : {
          succeeded: false,
          errorMessage: status.errors.join('\n') || `The ETL ended as ${status.state}.`,
        };
  };
  app.get('/etl/jobs', async () => jobs.list());
  app.get('/etl/jobs/:id', async (request, reply) => {
    const id = segment((request.params as Record<string, string>)['id'], 'job id');
    const status = jobs.status(id);
    return status ?? reply.code(404).send({ code: 'not-found', message: `No ETL job ${id}.` });
  });
  app.delete('/etl/jobs/:id', async (request, reply) => {
    const id = segment((request.params as Record<string, string>)['id'], 'job id');
    return jobs.cancel(id)
      ? reply.code(202).send({ id, state: 'cancelling' })
      : reply.code(404).send({ code: 'not-found', message: `No running ETL job ${id}.` });
  });
  app.post('/etl/:type/:key/:task', etl);
  app.post('/etl/:type/:task', etl);

  const count = async (request: FastifyRequest, reply: FastifyReply) => {
    const p = request.params as Record<string, string>;
    const type = segment(p['type'], 'adapter type');
    const key = p['key'] === undefined ? undefined : segment(p['key'], 'adapter key');
    const task = segment(p['task'], 'task');
    const found = runtime.findTask(type, key, task);
    if (!found.found) return reply.code(404).send({ code: 'not-found', message: found.reason });
    const answer = await runtime.count(type, found.key, task, AbortSignal.timeout(60_000));
    // canal-adapter's keys first (its rdb answer has targetTable, its es answers esIndex), then
    // which mapping was counted; a sink's field never replaces count/type/key/task.
    return { ...answer.fields, count: answer.count, type, key: found.key, task };
  };
  app.get('/count/:type/:key/:task', count);
  app.get('/count/:type/:task', count);

  await app.listen({ host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  // Not a field named "token" or "auth": the logger redacts those (SECRET_KEY_PATTERN), and
  // the value here is no secret.
  log.info('Admin API listening.', {
    url,
    access: token ? 'bearer token required' : 'open (no token)',
  });
  return {
    url,
    close: async () => {
      await jobs.close();
      // fastify closes idle connections; one with a request that never finished (a client that
      // sent half a request and waits) would hold the close, and with it the process's
      // shutdown, for ever. After a grace period every connection left is cut.
      const closed = app.close();
      const cut = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
      try {
        await closed;
      } finally {
        clearTimeout(cut);
      }
    },
  };
}
