// @ts-check
// Panel start-up: ask for the token when the service wants one, then wire the views to the REST API and the
// event stream.

import { api, ApiError, getToken, setToken } from './api.js';
import { ApduConsole } from './console.js';
import { DevicePanel } from './device.js';
import { byId, messageOf } from './dom.js';
import { followEvents } from './events.js';
import { FaultsView } from './faults.js';
import { MetricsView } from './metrics.js';
import { ReaderList } from './readers.js';
import { TraceView } from './trace.js';
import { TranscriptView } from './transcript.js';

const live = byId('live');

/** Resolves once a REST call succeeds, showing the token form for as long as the service answers 401. */
async function unlock() {
  const login = byId('login');
  const form = byId('login-form', HTMLFormElement);
  const input = byId('login-token', HTMLInputElement);
  const error = byId('login-error');
  for (;;) {
    try {
      await api('GET', '/v1/profiles');
      login.hidden = true;
      return;
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      error.textContent = getToken() === null ? '' : 'The service refused this token.';
      setToken(null);
      login.hidden = false;
      live.textContent = 'locked: access token needed';
      input.focus();
      await new Promise((resolve) => form.addEventListener('submit', (e) => {
        e.preventDefault();
        setToken(input.value);
        input.value = '';
        resolve(undefined);
      }, { once: true }));
    }
  }
}

async function main() {
  await unlock();
  byId('app').hidden = false;
  byId('nav').hidden = false;

  const apdu = new ApduConsole();
  const trace = new TraceView();
  const transcript = new TranscriptView();
  const faults = new FaultsView();
  const device = new DevicePanel();
  const metrics = new MetricsView();
  const readers = new ReaderList({
    onChange: (list) => {
      apdu.setReaders(list);
      trace.setReaders(list);
      transcript.setReaders(list);
      faults.setReaders(list);
    },
  });
  await readers.loadProfiles();

  followEvents((e) => {
    metrics.notifications += 1;
    if (e.event === 'reader') {
      void readers.refresh();
      trace.onReaderEvent();
    } else if (e.event === 'device') void device.refresh();
  }, (state, detail) => {
    live.textContent = state === 'open' ? 'live' : state === 'refused' ? `locked: ${detail ?? ''}` : `reconnecting… ${detail ?? ''}`;
    live.dataset.state = state;
  });
  await Promise.all([readers.refresh(), device.refresh()]);
  metrics.start();
}

main().catch((err) => {
  live.textContent = `failed to start: ${messageOf(err)}`;
  console.error(err);
});
