import type { FastifyReply } from 'fastify';

/**
 * Awaits `work` and says whether `reply`'s response closed meanwhile (its client gone): a place
 * held from then on, to be given back on 'close', would never be given back.
 */
export async function closedDuring<T>(reply: FastifyReply, work: Promise<T>): Promise<{ value: T; closed: boolean }> {
  let closed = false;
  const onClose = () => (closed = true);
  reply.raw.once('close', onClose);
  try {
    return { value: await work, closed };
  } finally {
    reply.raw.off('close', onClose);
  }
}
