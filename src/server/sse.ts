/** Server-sent events: framing for the server, and an incremental parser for clients and tests. */
import { StringDecoder } from "node:string_decoder";

/** One `data:` event. JSON.stringify escapes newlines, so one line always suffices. */
export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export function sseEvent(event: string, payload: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
}

export function sseDone(): string {
  return "data: [DONE]\n\n";
}

export interface SseMessage {
  event: string | null;
  data: string;
}

export interface SseParser {
  push(chunk: Buffer | string): void;
  /** Ends the stream; `incomplete` is true when a partial event was left over. */
  end(): { incomplete: boolean };
}

/** Parses an SSE byte stream split anywhere (inside lines, inside UTF-8 characters). */
export function createSseParser(onMessage: (msg: SseMessage) => void): SseParser {
  const decoder = new StringDecoder("utf8");
  let buffer = "";
  let event: string | null = null;
  let data: string[] = [];
  let hasFields = false;

  const line = (raw: string) => {
    if (raw === "") {
      if (data.length > 0) onMessage({ event, data: data.join("\n") });
      event = null;
      data = [];
      hasFields = false;
      return;
    }
    if (raw.startsWith(":")) return;
    hasFields = true;
    const colon = raw.indexOf(":");
    const field = colon === -1 ? raw : raw.slice(0, colon);
    let value = colon === -1 ? "" : raw.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
  };

  const drain = () => {
    for (;;) {
      const nl = buffer.search(/\r\n|\n|\r/);
      if (nl === -1) return;
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (buffer[nl] === "\r" && nl === buffer.length - 1) return;
      const len = buffer.startsWith("\r\n", nl) ? 2 : 1;
      line(buffer.slice(0, nl));
      buffer = buffer.slice(nl + len);
    }
  };

  return {
    push(chunk) {
      buffer += typeof chunk === "string" ? chunk : decoder.write(chunk);
      drain();
    },
    end() {
      buffer += decoder.end();
      drain();
      const incomplete = buffer.length > 0 || hasFields;
      buffer = "";
      return { incomplete };
    },
  };
}
