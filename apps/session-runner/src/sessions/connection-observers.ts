import { Injectable } from '@nestjs/common';
import type { SessionRef } from '@wa/contracts/runtime';
import type { WaConnection, WaReceived } from '@wa/wa-adapter';

/** Attaches to a session's connection and returns how to detach again. */
export type ConnectionObserver = (ref: SessionRef, connection: WaConnection) => () => void;

/**
 * Applies what a received message changes (an edit's text, a deletion, a vote in the tally)
 * before WhatsApp gets its delivery receipt; must be idempotent, since the same message also
 * comes as its event and again after a redelivery.
 */
export type ReceiptObserver = (ref: SessionRef, received: WaReceived) => Promise<void>;

/**
 * Lets other modules (messaging) listen to every connection SessionManager opens without
 * SessionManager knowing them: they register during module init, before any session resumes.
 */
@Injectable()
export class ConnectionObservers {
  private readonly observers: ConnectionObserver[] = [];
  private readonly receiptObservers: ReceiptObserver[] = [];

  register(observer: ConnectionObserver): void {
    this.observers.push(observer);
  }

  registerBeforeReceipt(observer: ReceiptObserver): void {
    this.receiptObservers.push(observer);
  }

  async beforeReceipt(ref: SessionRef, received: WaReceived): Promise<void> {
    for (const observe of this.receiptObservers) await observe(ref, received);
  }

  attach(ref: SessionRef, connection: WaConnection): () => void {
    const detach = this.observers.map((observe) => observe(ref, connection));
    return () => detach.forEach((off) => off());
  }
}
