import { normalizeJid } from '@wa/domain';
import type { BaileysModule } from './baileys.loader';
import type { WaPresenceUpdate } from './wa-presence.port';

type Socket = ReturnType<BaileysModule['makeWASocket']>;
type Node = { tag: string; attrs: Record<string, string>; content?: unknown };

/**
 * Presence and chat states read from the stanzas themselves: Baileys' `presence.update` folds
 * `paused` into `available`, and a chat state is about one chat while a presence is global.
 */
export function attachPresence(sock: Socket, emit: (update: WaPresenceUpdate) => void): () => void {
  const onPresence = (node: Node): void => {
    const from = node.attrs.from;
    if (!from || from.endsWith('@g.us')) return;
    const type = node.attrs.type;
    if (type !== 'available' && type !== 'unavailable' && type !== undefined) return;
    const last = Number(node.attrs.last);
    emit({
      chatJid: normalizeJid(from),
      participant: normalizeJid(node.attrs.participant ?? from),
      presence: type === 'unavailable' ? 'unavailable' : 'available',
      ...(type === 'unavailable' && Number.isFinite(last) && last > 0 ? { lastSeenMs: last * 1000 } : {}),
    });
  };
  const onChatstate = (node: Node): void => {
    const from = node.attrs.from;
    const first = Array.isArray(node.content) ? (node.content[0] as Node | undefined) : undefined;
    if (!from || !first) return;
    const presence = first.tag === 'paused' ? 'paused' : first.attrs?.media === 'audio' ? 'recording' : first.tag === 'composing' ? 'composing' : undefined;
    if (!presence) return;
    emit({ chatJid: normalizeJid(from), participant: normalizeJid(node.attrs.participant ?? from), presence });
  };
  sock.ws.on('CB:presence', onPresence);
  sock.ws.on('CB:chatstate', onChatstate);
  return () => {
    sock.ws.off('CB:presence', onPresence);
    sock.ws.off('CB:chatstate', onChatstate);
  };
}
