import { AppError } from '@wa/domain';

/** What Baileys throws when no media host took an upload (each was tried, none answered with a URL). */
const UPLOAD_FAILED = 'Media upload failed on all hosts';

/**
 * A media upload that WhatsApp's media hosts did not take (unreachable, refused, TLS not
 * verified) is WhatsApp's side failing, not ours: the caller may try again later, so it answers
 * 503 `service_unavailable` rather than an internal error. Anything else is returned as it is.
 */
export function mediaUploadFailure(err: unknown): unknown {
  const e = err as { isBoom?: boolean; message?: unknown } | null;
  if (e?.isBoom && e.message === UPLOAD_FAILED) {
    return new AppError('service_unavailable', "WhatsApp's media hosts did not take the upload; try again later", { reason: 'media_upload_failed' });
  }
  return err;
}
