import { AppError, isJid, normalizeJid, normalizePhoneNumber, phoneToJid } from '@wa/domain';

/** A chat or participant as callers may name it: a JID, or an international phone number. */
export function toJid(value: unknown, field: string): string {
  if (typeof value === 'string') {
    if (isJid(value)) return normalizeJid(value);
    const phone = normalizePhoneNumber(value);
    if (phone) return phoneToJid(phone);
  }
  throw new AppError('validation_error', `${field} must be a WhatsApp JID or an international phone number`, { [field]: value });
}
