/** One Server-Sent Events message as the EventSource algorithm dispatches it. */
export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/**
 * Incremental parser of a `text/event-stream` body (the WHATWG EventSource rules: any line
 * ending, comments, multi-line data, `retry`). Chunks may split lines anywhere.
 */
export class SseParser {
  /** The last `retry:` value the server sent, in ms. */
  retryMs: number | undefined;
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  private sawId = false;
  /** The previous chunk ended in \r: a \n starting this one belongs to the same line end. */
  private afterCr = false;

  push(chunk: string): SseMessage[] {
    if (chunk === '') return [];
    if (this.afterCr && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.afterCr = chunk.endsWith('\r');
    this.buffer += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) {
      this.id = value;
      this.sawId = true;
    } else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    const message = this.data.length ? { ...(this.sawId ? { id: this.id } : {}), event: this.event || 'message', data: this.data.join('\n') } : undefined;
    this.data = [];
    this.event = '';
    this.sawId = false;
    return message;
  }
}
