// @ts-check
// Server-sent event streams (/v1/events, a reader's transcript) read with fetch, not EventSource, so the token
// goes in a header, never in the URL. Reconnects after a drop; /v1/events starts each connection with a snapshot,
// the transcript stream resumes after the last entry seen.

import { authHeaders, errorOf } from './api.js';

const RETRY_MS = 2000;

/**
 * @typedef {{ event: string, data: any }} ServiceEvent  data: the route's documented JSON
 * @param {(e: ServiceEvent) => void} onEvent
 * @param {(state: 'open' | 'closed' | 'refused', detail?: string) => void} onState
 * @returns {() => void} stops the stream
 */
export function followEvents(onEvent, onState) {
  return followStream(() => '/v1/events', onEvent, onState);
}

/**
 * Follows one event stream; `path` is asked again at every (re)connect, so it can carry a resume point.
 * @param {() => string} path
 * @param {(e: ServiceEvent) => void} onEvent
 * @param {(state: 'open' | 'closed' | 'refused', detail?: string) => void} onState
 * @returns {() => void} stops the stream
 */
export function followStream(path, onEvent, onState) {
  let stopped = false;
  /** @type {AbortController | null} */
  let ac = null;

  const run = async () => {
    while (!stopped) {
      ac = new AbortController();
      try {
        const res = await fetch(path(), { headers: { ...authHeaders(), accept: 'text/event-stream' }, signal: ac.signal });
        if (!res.ok || res.body === null) {
          const err = await errorOf(res);
          onState(res.status === 401 ? 'refused' : 'closed', err.message);
          if (res.status === 401) return;
        } else {
          onState('open');
          await readStream(res.body, onEvent);
          if (stopped) return;
          onState('closed', 'the event stream ended');
        }
      } catch (err) {
        if (stopped) return;
        onState('closed', err instanceof Error ? err.message : String(err));
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  };
  void run();
  return () => {
    stopped = true;
    ac?.abort();
  };
}

/**
 * Parses text/event-stream blocks (`event:` and `data:` lines, blank line ends one; `:` lines are comments).
 * @param {ReadableStream<Uint8Array>} body
 * @param {(e: ServiceEvent) => void} onEvent
 */
async function readStream(body, onEvent) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trimStart();
      }
      if (data !== '') onEvent({ event, data: JSON.parse(data) });
    }
  }
}
