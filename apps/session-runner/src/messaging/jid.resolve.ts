import { AppError, isGroupJid, isJid, normalizeJid, normalizePhoneNumber, phoneToJid } from '@wa/domain';

/** A chat or participant as callers may name it: a JID, or an international phone number. */
export function toJid(value: unknown, field: string): string {
  if (typeof value === 'string') {
    if (isJid(value)) return normalizeJid(value);
    const phone = normalizePhoneNumber(value);
    if (phone) return phoneToJid(phone);
  }
  throw new AppError('validation_error', `${field} must be a WhatsApp JID or an international phone number`, { [field]: value });
}

/** A contact (a person, never a group): a phone-number or LID jid, or an international phone number. */
export function toContactJid(value: unknown, field = 'jid'): string {
  const jid = toJid(value, field);
  if (isGroupJid(jid) || !/@(s\.whatsapp\.net|lid)$/.test(jid)) {
    throw new AppError('validation_error', `invalid request: ${field}: a contact is a @s.whatsapp.net or @lid address`, { fields: [{ field, problems: ['not a contact address'] }] });
  }
  return jid;
}
