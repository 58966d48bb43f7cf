import { Injectable } from '@nestjs/common';

/** How many open requests are remembered per runner; the oldest are forgotten first. */
const KEPT = 1000;

/**
 * The chat each recent history request was about, as the caller named it, by request id: the
 * phone's answer names the chat in its own form (and names none when it has nothing to send).
 * Kept in memory: the answer comes to the runner that holds the session, which sent the request.
 */
@Injectable()
export class HistoryRequests {
  private readonly chats = new Map<string, string>();

  remember(sessionId: string, requestId: string, chat: string): void {
    this.chats.set(`${sessionId}|${requestId}`, chat);
    if (this.chats.size > KEPT) this.chats.delete(this.chats.keys().next().value as string);
  }

  take(sessionId: string, requestId: string | undefined): string | undefined {
    if (!requestId) return undefined;
    const key = `${sessionId}|${requestId}`;
    const chat = this.chats.get(key);
    this.chats.delete(key);
    return chat;
  }
}
