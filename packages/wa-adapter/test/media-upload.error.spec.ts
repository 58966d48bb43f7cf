import { AppError } from '@wa/domain';
import { mediaUploadFailure } from '../src/media-upload.error';

/** What Baileys' upload throws once every media host failed: a Boom (`isBoom`) with this message. */
const boom = (message: string): Error => Object.assign(new Error(message), { isBoom: true, output: { statusCode: 500 } });

describe('a media upload no WhatsApp host took', () => {
  it('answers 503 service_unavailable (WhatsApp failing), not an internal error', () => {
    const mapped = mediaUploadFailure(boom('Media upload failed on all hosts'));
    expect(mapped).toBeInstanceOf(AppError);
    expect((mapped as AppError).toJSON()).toEqual({
      code: 'service_unavailable',
      message: "WhatsApp's media hosts did not take the upload; try again later",
      details: { reason: 'media_upload_failed' },
    });
    expect((mapped as AppError).status).toBe(503);
  });

  it('leaves every other failure as it was', () => {
    const closed = boom('Connection Closed');
    expect(mediaUploadFailure(closed)).toBe(closed);
    const notBoom = new Error('Media upload failed on all hosts');
    expect(mediaUploadFailure(notBoom)).toBe(notBoom);
  });
});
