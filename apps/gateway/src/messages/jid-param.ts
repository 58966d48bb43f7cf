import { JID_PATTERN } from '@wa/contracts';
import { AppError } from '@wa/domain';

/** Path parameters that name a chat or group are JIDs; anything else is a 400, not a runner error. */
export function requireJid(value: string, field: string): string {
  if (!JID_PATTERN.test(value)) {
    throw new AppError('validation_error', `invalid request: ${field}: must be a JID`, { fields: [{ field, problems: [`${field} must be a JID like 491701234567@s.whatsapp.net`] }] });
  }
  return value;
}
