import { Injectable } from '@nestjs/common';
import type { SessionRef } from '@wa/contracts';
import type { WaConnection } from '@wa/wa-adapter';

/** Attaches to a session's connection and returns how to detach again. */
export type ConnectionObserver = (ref: SessionRef, connection: WaConnection) => () => void;

/**
 * Lets other modules (messaging) listen to every connection SessionManager opens without
 * SessionManager knowing them: they register during module init, before any session resumes.
 */
@Injectable()
export class ConnectionObservers {
  private readonly observers: ConnectionObserver[] = [];

  register(observer: ConnectionObserver): void {
    this.observers.push(observer);
  }

  attach(ref: SessionRef, connection: WaConnection): () => void {
    const detach = this.observers.map((observe) => observe(ref, connection));
    return () => detach.forEach((off) => off());
  }
}
