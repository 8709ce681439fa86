/**
 * Fetches waiting for records (long polls), each with an AbortController that ends its wait when
 * the client goes away or the server closes, so no wait outlives the one who asked for it.
 *
 * "The client went away" is the response's 'close' event before the response was written: Node
 * emits it when the socket closes under a pending response. (The request's own 'close' is no
 * use here: Node emits it as soon as the request body has been read.)
 */

import type { FastifyReply } from 'fastify';

export class LongPolls {
  readonly #waiting = new Set<AbortController>();

  get size(): number {
    return this.#waiting.size;
  }

  /** An AbortSignal for one fetch; call the returned `end` when the fetch is answered. */
  begin(reply: FastifyReply): { signal: AbortSignal; end: () => void } {
    const controller = new AbortController();
    const onClose = (): void => {
      if (!reply.raw.writableFinished) controller.abort();
    };
    reply.raw.once('close', onClose);
    // The client may have gone while the request was still being routed.
    if (reply.raw.destroyed || reply.raw.socket?.destroyed === true) controller.abort();
    this.#waiting.add(controller);
    return {
      signal: controller.signal,
      end: () => {
        reply.raw.removeListener('close', onClose);
        this.#waiting.delete(controller);
      },
    };
  }

  /** Ends every wait at once: each fetch answers with what it has (usually nothing). */
  abortAll(): void {
    for (const controller of this.#waiting) controller.abort();
    this.#waiting.clear();
  }
}
