/**
 * The SDK's one way to talk to the broker: HTTP/1.1 requests over a pool of keep-alive
 * connections (undici's Pool), each with its own total timeout, every failure turned into a
 * typed MiniKafkaClientError (errors.ts):
 *
 * - an answer with status ≥ 400 → the broker's error, rebuilt from its one error body;
 * - refused, reset, or closed before the answer → ConnectionError (retriable: the request may or
 *   may not have been served, so only what is safe to repeat is repeated: idempotent produce,
 *   reads, and the admin calls documented as such);
 * - no answer within the timeout → RequestTimeoutError (retriable), the request is aborted.
 *
 * The transport does not retry: callers know what is safe to repeat (retry.ts).
 *
 * Requests go through undici's dispatch() with a handler that collects the answer's chunks, not
 * through request(), which wraps every answer in a Readable stream: a consumer's fetch loop and a
 * producer send hundreds of requests a second, and against a bare Node server on loopback the
 * stream cost 20–30 µs of the client's CPU per request (108–116 µs with it, 75–95 without).
 *
 * One Transport per producer, consumer or admin (as KafkaJS keeps connections per client object),
 * so a consumer's long polls never hold the connections a producer needs. `maxConnections` bounds
 * the pool; requests beyond it wait in undici's queue.
 */

import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { ClientClosedError, ConnectionError, InvalidArgumentError, MiniKafkaClientError, RequestTimeoutError, errorFromResponse } from './errors.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface TransportOptions {
  /** The broker's base URL, e.g. http://127.0.0.1:8082 (a path prefix is kept). */
  readonly url: string;
  /** Sent as `x-client-id`, Kafka's client.id, so the broker's operators can tell clients apart. */
  readonly clientId: string;
  /** Default 8: at most this many connections, each carrying one request at a time. */
  readonly maxConnections?: number;
  /** Default 30000 (Kafka's request.timeout.ms): a request's whole life, connect to last body byte. */
  readonly requestTimeoutMs?: number;
  /** Default 10000: establishing a connection. */
  readonly connectTimeoutMs?: number;
}

export interface TransportRequest {
  readonly method: HttpMethod;
  /** The path under the base URL, with its query string, e.g. /topics/orders/partitions. */
  readonly path: string;
  readonly body?: Buffer | string;
  readonly contentType?: string;
  readonly accept?: string;
  /** Overrides requestTimeoutMs for this request. */
  readonly timeoutMs?: number;
  /** Aborts the request early (a consumer closing); the call then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface TransportResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

const DEFAULT_MAX_CONNECTIONS = 8;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const EMPTY = Buffer.alloc(0);

/** Node's and undici's codes for a connection that failed or went away before the answer. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);
/** undici's codes for a request on a pool this side closed: not retriable, the transport is gone. */
const CLOSED_POOL_CODES = new Set(['UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

export class Transport {
  readonly baseUrl: string;
  readonly #pathPrefix: string;
  readonly #pool: Pool;
  readonly #clientId: string;
  readonly #requestTimeoutMs: number;

  constructor(options: TransportOptions) {
    const url = parseBaseUrl(options.url);
    this.baseUrl = url.href.replace(/\/$/, '');
    this.#pathPrefix = url.pathname.replace(/\/$/, '');
    this.#clientId = options.clientId;
    this.#requestTimeoutMs = positiveInteger(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, 'requestTimeoutMs');
    this.#pool = new Pool(url.origin, {
      connections: positiveInteger(options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, 'maxConnections'),
      pipelining: 1,
      connectTimeout: positiveInteger(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs'),
      // Our own timer bounds each request (below); undici's idle timers would only race it.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  /**
   * Sends one request and reads the whole answer. Resolves for status < 400; otherwise rejects with
   * the broker's error (or UNEXPECTED_RESPONSE), ConnectionError or RequestTimeoutError.
   */
  request(request: TransportRequest): Promise<TransportResponse> {
    return new Promise((resolve, reject) => {
      const timeoutMs = request.timeoutMs ?? this.#requestTimeoutMs;
      // undici hands the controller over once the request has a connection; until then an abort
      // is remembered and carried out when it arrives.
      let controller: Dispatcher.DispatchController | null = null;
      let abortReason: Error | null = null;
      let isSettled = false;
      const settle = (error: unknown, response?: TransportResponse): void => {
        if (isSettled) return;
        isSettled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onCallerAbort);
        if (response === undefined) reject(error);
        else resolve(response);
      };
      const abort = (reason: unknown): void => {
        if (isSettled) return;
        abortReason = reason instanceof Error ? reason : new Error(`aborted: ${String(reason)}`);
        controller?.abort(abortReason);
        settle(reason);
      };
      // The error is built only when the timer fires: an Error captures a stack, too dear for every request.
      const timer = setTimeout(() => {
        abort(new RequestTimeoutError(`${request.method} ${request.path} got no answer within ${timeoutMs} ms (requestTimeoutMs)`, { method: request.method, path: request.path, timeoutMs }));
      }, timeoutMs);
      const onCallerAbort = (): void => abort(request.signal?.reason);
      request.signal?.addEventListener('abort', onCallerAbort, { once: true });
      if (request.signal?.aborted === true) return onCallerAbort();
      const chunks: Buffer[] = [];
      let statusCode = 0;
      let headers: TransportResponse['headers'] = {};
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: (started) => {
          controller = started;
          if (abortReason !== null) started.abort(abortReason);
        },
        onResponseStart: (_controller, status, responseHeaders) => {
          statusCode = status;
          headers = responseHeaders;
        },
        onResponseData: (_controller, chunk) => {
          chunks.push(chunk);
        },
        onResponseEnd: () => {
          const body = chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          if (statusCode >= 400) settle(errorFromResponse(statusCode, body, request));
          else settle(null, { statusCode, headers, body });
        },
        onResponseError: (_controller, error) => settle(toClientError(error, request, this.baseUrl)),
      };
      try {
        this.#pool.dispatch({ method: request.method, path: this.#pathPrefix + request.path, headers: this.#headersFor(request), body: request.body }, handler);
      } catch (error) {
        settle(toClientError(error, request, this.baseUrl));
      }
    });
  }

  /** request(), with the answer parsed as JSON (undefined for an empty body, e.g. 204). */
  async requestJson<T>(request: TransportRequest): Promise<T> {
    const response = await this.request({ accept: 'application/json', ...request });
    if (response.body.length === 0) return undefined as T;
    try {
      return JSON.parse(response.body.toString('utf8')) as T;
    } catch (error) {
      throw new MiniKafkaClientError('UNEXPECTED_RESPONSE', `${request.method} ${request.path} answered ${response.statusCode} with a body that is not JSON`, {
        retriable: false, httpStatus: response.statusCode, cause: error, details: { method: request.method, path: request.path },
      });
    }
  }

  /** Waits for requests in flight, then closes every connection. */
  async close(): Promise<void> {
    if (this.#pool.closed) return;
    await this.#pool.close();
  }

  /** Closes every connection at once; requests in flight fail with ConnectionError. */
  async destroy(): Promise<void> {
    if (this.#pool.destroyed) return;
    await this.#pool.destroy();
  }

  #headersFor(request: TransportRequest): Record<string, string> {
    const headers: Record<string, string> = { 'x-client-id': this.#clientId };
    if (request.contentType !== undefined) headers['content-type'] = request.contentType;
    if (request.accept !== undefined) headers.accept = request.accept;
    return headers;
  }
}

function toClientError(error: unknown, request: TransportRequest, baseUrl: string): unknown {
  if (error instanceof MiniKafkaClientError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CLOSED_POOL_CODES.has(code)) {
    return new ClientClosedError(`${request.method} ${request.path}: the connections to ${baseUrl} were closed by this client (close() or destroy())`);
  }
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) {
    return new ConnectionError(`${request.method} ${request.path} to ${baseUrl} failed before an answer (${code}): ${(error as Error).message}`, {
      method: request.method, path: request.path, url: baseUrl, systemCode: code,
    }, error);
  }
  return error;
}

/** Accepts `http://host:port[/prefix]` or a bare `host:port` (as KafkaJS's brokers list is written). */
export function parseBaseUrl(text: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new InvalidArgumentError(`broker address ${JSON.stringify(text)} is neither a URL (http://host:port) nor host:port`, { url: text });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(`broker address ${JSON.stringify(text)} uses ${url.protocol}; the broker speaks http: or https:`, { url: text });
  }
  if (url.search !== '' || url.hash !== '') throw new InvalidArgumentError(`broker address ${JSON.stringify(text)} must not carry a query or fragment`, { url: text });
  return url;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`, { [name]: value });
  return value;
}
