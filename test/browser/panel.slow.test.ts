// The control panel in a real browser (Debian's chromium via puppeteer-core) against a real service with its
// pcsc-lite socket: readers, live updates, insert/remove seen by pyscard, the APDU console, a dropped file's
// digest, a forum-broken reader's diagnosis, the live transcript, faults armed from the form, a PIN-pad reader's
// keypad answering pyscard's secure PIN entry, and the token lock.
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AES_123, startTestService, type TestService } from '../service/integration/harness.js';
import { type InteropService, PYTHON, rest, startInteropService, Watched } from '../interop/support.js';
import { browserGate, launchBrowser, openPage, type PageProblems, screenshot, SCREENSHOTS } from './support.js';

const g = browserGate([['pyscard', 'python3-pyscard']]);
const WATCH = fileURLToPath(new URL('./pyscard-watch.py', import.meta.url));
const PINPAD_VERIFY = fileURLToPath(new URL('./pyscard-pinpad-verify.py', import.meta.url));
const READER_0 = 'vscr Virtual Reader 00 00';
const READER_1 = 'vscr Virtual Reader 01 00';

/** The slot of a reader, by name. */
const slot = (name: string): string => `li.slot[data-reader="${name}"]`;

/** Waits until the reader's slot shows (or stops showing) a card. */
async function waitForCard(page: Page, name: string, present: boolean): Promise<void> {
  await page.waitForFunction((sel: string, want: boolean) => {
    const li = document.querySelector(sel);
    const atr = li?.querySelector('[data-role="atr"]')?.textContent;
    return li !== null && (li.textContent ?? '').includes('card present') === want && (atr === '—') !== want;
  }, {}, slot(name), present);
}

/** The console's history entries as shown, newest first. */
async function history(page: Page): Promise<{ response: string; sw: string; meaning: string }[]> {
  return page.$$eval('#apdu-history li', (items) => items.map((li) => ({
    response: (li.querySelector('[data-role="response"]')?.textContent ?? '').replace(/^< /, '').replace(/\s+/g, ''),
    sw: li.querySelector('[data-role="sw"]')?.textContent ?? '',
    meaning: li.querySelector('[data-role="meaning"]')?.textContent ?? '',
  })));
}

/** Clicks a console button and waits for its answer to be the newest history entry. */
async function sendFromConsole(page: Page, label: string): Promise<{ response: string; sw: string; meaning: string }> {
  const before = (await history(page)).length;
  const [button] = await page.$$(`xpath/.//form[@id="apdu-form"]//button[normalize-space()='${label}']`);
  expect(button, `console button ${label}`).toBeDefined();
  await button.click();
  await page.waitForFunction((n: number) => document.querySelectorAll('#apdu-history li').length > n, {}, before);
  const [newest] = await history(page);
  // The SW is also inside the response line; strip it so `response` is the data only.
  return { ...newest, response: newest.response.slice(0, newest.response.length - newest.sw.length) };
}

/** Types an APDU into the console, sends it with Enter, and waits for its history entry. */
async function typeAndSend(page: Page, apdu: string): Promise<{ response: string; sw: string; meaning: string }> {
  await page.$eval('#apdu-input', (e) => ((e as HTMLInputElement).value = ''));
  await page.type('#apdu-input', apdu);
  const before = (await history(page)).length;
  await page.keyboard.press('Enter');
  await page.waitForFunction((n: number) => document.querySelectorAll('#apdu-history li').length > n, {}, before);
  const [newest] = await history(page);
  return { ...newest, response: newest.response.slice(0, newest.response.length - newest.sw.length) };
}

/** The transcript view's APDU entries as shown, oldest first. */
async function transcript(page: Page): Promise<{ command: string; response: string; sw: string; meaning: string; masked: boolean }[]> {
  return page.$$eval('#transcript-list li[data-kind="apdu"]', (items) => items.map((li) => ({
    command: (li.querySelector('[data-role="command"]')?.firstChild?.textContent ?? '') + (li.querySelector('[data-role="command"]')?.childNodes[1]?.textContent ?? ''),
    response: (li.querySelector('[data-role="response"]')?.textContent ?? '').replace(/^< /, '').replace(/\s+/g, ''),
    sw: li.querySelector('[data-role="sw"]')?.textContent ?? '',
    meaning: li.querySelector('[data-role="meaning"]')?.textContent ?? '',
    masked: (li.textContent ?? '').includes('PIN masked'),
  })));
}

/** Drops `bytes` as a file named `name` on the crypto form's drop zone, the way a desktop drag ends. */
async function dropFile(page: Page, name: string, bytes: Buffer): Promise<void> {
  await page.evaluate((fileName: string, b64: string) => {
    const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([raw], fileName, { type: 'application/octet-stream' }));
    const zone = document.getElementById('drop');
    if (zone === null) throw new Error('no drop zone');
    zone.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
    zone.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
  }, name, bytes.toString('base64'));
}

describe.skipIf(g.skip)('control panel in chromium', () => {
  let svc: InteropService;
  let browser: Browser;
  let page: Page;
  let problems: PageProblems;

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    svc = await startInteropService();
    browser = await launchBrowser();
    ({ page, problems } = await openPage(browser));
  });

  afterAll(async () => {
    await browser?.close();
    await svc?.close();
  });

  it('loads with no console errors, strict security headers, and lists the default readers', async () => {
    const res = await page.goto(`${svc.url}/`, { waitUntil: 'domcontentloaded' });
    expect(res?.status()).toBe(200);
    const csp = res?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res?.headers()['x-content-type-options']).toBe('nosniff');

    await page.waitForSelector(slot(READER_1));
    const names = await page.$$eval('li.slot h3', (hs) => hs.map((h) => h.textContent));
    expect(names).toEqual([READER_0, READER_1]);
    await page.waitForFunction(() => document.getElementById('live')?.textContent === 'live');
    expect(await page.$eval(`${slot(READER_0)} [data-role="profile"]`, (e) => e.textContent)).toBe('default');
    expect(await page.$eval(`${slot(READER_0)} [data-role="atr"]`, (e) => e.textContent)).toBe('3B 8C 80 01 80 31 80 73 B0 01 40 64 76 73 63 72 CE');
    // The ATR decoding names the fields and finds the check byte right.
    const decoding = await page.$eval(`${slot(READER_0)} details.atr`, (e) => e.textContent ?? '');
    expect(decoding).toContain('direct convention');
    expect(decoding).toContain('protocol T=1');
    expect(decoding).toContain('check byte: correct');
    await page.$eval(`${slot(READER_0)} details.atr`, (e) => ((e as HTMLDetailsElement).open = true));
    await page.waitForSelector('#metric-list [data-metric="apdu-rate"]');
    // The rate chart (uPlot, from node_modules) draws once two polls gave a rate.
    await page.waitForSelector('#metric-chart canvas');
    await screenshot(page, 'readers-desktop');
    expect(problems.errors).toEqual([]);
  });

  it('an Insert and a Remove click are seen by a pyscard SCardGetStatusChange waiter', async () => {
    const watcher = Watched.spawn(PYTHON, [WATCH, READER_1], svc.env);
    try {
      await watcher.waitFor(/"step": "ready", "rv": 0, "present": false/);
      let mark = watcher.mark;
      await page.select(`${slot(READER_1)} select`, 't1-only');
      await page.click(`${slot(READER_1)} button[data-key="1-card"]`);
      await watcher.waitFor(/"step": "change", "rv": 0, "present": true, "atr": "3b/, mark);
      await waitForCard(page, READER_1, true);
      expect(await page.$eval(`${slot(READER_1)} [data-role="profile"]`, (e) => e.textContent)).toBe('t1-only');
      // Keyboard focus follows the control from Insert to Remove card across the re-render.
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Remove card');

      mark = watcher.mark;
      await page.click(`${slot(READER_1)} button[data-key="1-card"]`);
      await watcher.waitFor(/"step": "change", "rv": 0, "present": false/, mark);
      await waitForCard(page, READER_1, false);
    } finally {
      await watcher.stop();
    }
    expect(problems.errors).toEqual([]);
  });

  it('a REST insert from outside appears without a reload', async () => {
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    const before = await page.$eval(`${slot(READER_1)} [data-role="events"]`, (e) => Number(e.textContent));
    const res = await rest(svc.url, 'POST', '/v1/readers/1/card', {});
    expect(res.status).toBe(201);
    const counter = (res.body as { reader: { eventCounter: number } }).reader.eventCounter;
    expect(counter).toBeGreaterThan(before);
    await waitForCard(page, READER_1, true);
    await page.waitForFunction((sel: string, n: number) => document.querySelector(sel)?.textContent === String(n), {}, `${slot(READER_1)} [data-role="events"]`, counter);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect((await rest(svc.url, 'DELETE', '/v1/readers/1/card')).status).toBe(200);
    await waitForCard(page, READER_1, false);
  });

  it('works from the keyboard: Tab to Insert card, Enter inserts, Space on the same spot removes', async () => {
    await page.focus(`${slot(READER_1)} select`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Insert card');
    await page.keyboard.press('Enter');
    await waitForCard(page, READER_1, true);
    // Focus stayed on the slot's card button, which now removes.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Remove card');
    await page.keyboard.press('Space');
    await waitForCard(page, READER_1, false);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Insert card');
    expect(problems.errors).toEqual([]);
  });

  it('the APDU console: GET CHALLENGE, SELECT of the crypto applet, PSO:HASH of "123"; history survives a reload', async () => {
    await page.select('#apdu-reader', READER_0);
    const challenge = await sendFromConsole(page, 'GET CHALLENGE');
    expect(challenge.sw).toBe('9000');
    expect(challenge.response).toMatch(/^[0-9A-F]{16}$/);
    expect(challenge.meaning).toBe('success');

    // The default card speaks T=0: the SELECT's answer waits for a GET RESPONSE (61 10: 16 bytes).
    const select = await sendFromConsole(page, 'SELECT crypto applet');
    expect(select.sw).toBe('6110');
    expect(select.meaning).toBe('success: 16 more byte(s) available (GET RESPONSE)');
    const fci = await typeAndSend(page, '00 C0 00 00 10');
    expect(fci.sw).toBe('9000');
    expect(fci.response).toMatch(/^[0-9A-F]{32}$/);

    const hash = await sendFromConsole(page, 'PSO:HASH "123"');
    expect(hash.sw).toBe('9000');
    expect(hash.response.toLowerCase()).toBe(createHash('sha256').update('123').digest('hex'));

    // A typed APDU with a bad INS gets its status word named.
    const bad = await typeAndSend(page, '00 EE 00 00');
    expect(bad.sw).toBe('6D00');
    expect(bad.meaning).toBe('error: instruction code not supported or invalid');
    await screenshot(page, 'apdu-console');

    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector(slot(READER_1));
    const kept = await history(page);
    expect(kept.slice(0, 5).map((e) => e.sw)).toEqual(['6D00', '9000', '9000', '6110', '9000']);
    expect(problems.errors).toEqual([]);
  });

  it('a file dropped on the crypto form gives its SHA-256, and AES-CBC encrypt gives the device cipher', async () => {
    const bytes = randomBytes(1024 * 1024 + 5);
    await dropFile(page, 'random.bin', bytes);
    await page.waitForSelector('#crypto-result [data-role="digest"]');
    expect(await page.$eval('#crypto-result [data-role="digest"]', (e) => e.textContent)).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(await page.$eval('#crypto-progress', (e) => (e as HTMLProgressElement).value)).toBe(1);
    await screenshot(page, 'crypto-hash');

    // Encrypt "123" with the default key string: the known answer of docs/service.md.
    await page.click('input[name="op"][value="aes-cbc/encrypt"]');
    await dropFile(page, 'abc.txt', Buffer.from('123'));
    await page.waitForSelector('#crypto-result [data-role="output-hex"]');
    expect(await page.$eval('#crypto-result [data-role="output-hex"]', (e) => e.textContent)).toBe(AES_123);
    expect(await page.$eval('#crypto-result a[download]', (e) => e.getAttribute('download'))).toBe('abc.txt.enc');
    await page.click('input[name="op"][value="sha256"]');
    expect(problems.errors).toEqual([]);
  });

  it('the device reset button resets the device', async () => {
    const resets = async (): Promise<number> => {
      const text = await (await fetch(`${svc.url}/metrics`)).text();
      const m = /^vscr_device_operations_total\{[^}]*op="reset"[^}]*\} (\d+)$/m.exec(text);
      return m === null ? 0 : Number(m[1]);
    };
    const before = await resets();
    const notified = await page.$eval('[data-metric="notifications"]', (e) => Number(e.textContent));
    await page.click('[data-device="0"] button');
    // The reset's SSE `device` event reaches the page and the device is ready again.
    await page.waitForFunction((n: number) => Number(document.querySelector('[data-metric="notifications"]')?.textContent) > n, { timeout: 15_000 }, notified);
    expect(await resets()).toBe(before + 1);
    expect(await page.$eval('[data-device="0"] [data-role="state"]', (e) => e.textContent)).toBe('ReadyState (0)');
    expect(await page.$eval('[data-device="0"] [data-role="error"]', (e) => e.textContent)).toBe('no error (0)');
  });

  it('a forum-broken reader added from the form shows its failure and the IRP that caused it', async () => {
    await page.select('#add-variant', 'forum-broken');
    // Markup in a vendor name stays text.
    await page.type('#add-vendor', '<i>vscr</i>');
    await page.click('#add-reader button[type="submit"]');
    const failed = 'li.slot.failed';
    await page.waitForSelector(failed);
    expect(await page.$eval(`${failed} h3`, (e) => e.textContent)).toBe('<i>vscr</i> Virtual Reader 02 00');
    expect(await page.$$(`${failed} h3 i`)).toHaveLength(0);
    const text = await page.$eval(`${failed} [data-role="failure"]`, (e) => e.textContent ?? '');
    const { body } = await rest(svc.url, 'GET', '/v1/readers');
    const broken = (body as { readers: { index: number; failure: string | null; variant: string }[] }).readers.find((r) => r.variant === 'forum-broken');
    expect(broken?.failure).toBeTruthy();
    expect(text).toBe(broken?.failure);
    await page.waitForFunction((sel: string) => !(document.querySelector(sel)?.textContent ?? '').includes('looking up'), {}, `${failed} [data-role="culprit"]`);
    const culprit = await page.$eval(`${failed} [data-role="culprit"]`, (e) => e.textContent ?? '');
    expect(culprit).toMatch(/^IRP #\d+: IOCTL_SMARTCARD_IS_ABSENT → STATUS_DEVICE_BUSY \(0x80000011\)$/);
    expect(await page.$eval(`${failed} .badge.bad`, (e) => e.textContent)).toBe('not published');
    await page.$eval(failed, (e) => e.scrollIntoView());
    await screenshot(page, 'forum-broken');

    await page.click(`${failed} button.danger`);
    await page.waitForFunction(() => document.querySelectorAll('li.slot').length === 2);
    const after = await rest(svc.url, 'GET', '/v1/readers');
    expect((after.body as { readers: unknown[] }).readers).toHaveLength(2);
    expect(problems.errors).toEqual([]);
  });

  it('the transcript view follows the reader live: a console APDU appears with its SW, a VERIFY with its PIN masked', async () => {
    await page.select('#transcript-reader', '0');
    await page.waitForFunction(() => document.getElementById('transcript-state')?.textContent === 'following');
    await page.click('#transcript-clear');
    await page.waitForFunction(() => document.querySelectorAll('#transcript-list li').length === 0);
    expect((await rest(svc.url, 'GET', '/v1/readers/0/transcript')).body).toMatchObject({ entries: [] });

    await page.select('#apdu-reader', READER_0);
    const challenge = await sendFromConsole(page, 'GET CHALLENGE');
    expect(challenge.sw).toBe('9000');
    await page.waitForFunction(() => document.querySelectorAll('#transcript-list li[data-kind="apdu"]').length >= 1);
    const [first] = await transcript(page);
    expect(first).toMatchObject({ command: '> 00 84 00 00 08', response: `${challenge.response}9000`, sw: '9000', meaning: 'success', masked: false });

    // The default card's PIN 1234: the transcript holds only its length, the page never shows the digits.
    const verify = await typeAndSend(page, '00 20 00 81 08 31 32 33 34 FF FF FF FF');
    expect(verify.sw).toBe('9000');
    await page.waitForFunction(() => document.querySelectorAll('#transcript-list li[data-kind="apdu"]').length >= 2);
    const [, second] = await transcript(page);
    expect(second).toMatchObject({ command: '> 00 20 00 81 08 ?? ?? ?? ?? ?? ?? ?? ??', sw: '9000', masked: true });
    expect(await page.$eval('#transcript-list', (e) => e.textContent ?? '')).not.toContain('31 32 33 34');
    // Nor does the console's own history, on the page or in localStorage (a file of the browser's profile).
    expect(await page.$eval('#apdu-history', (e) => e.textContent ?? '')).toContain('00 20 00 81 08 ?? ?? ?? ?? ?? ?? ?? ??');
    const stored = await page.evaluate(() => localStorage.getItem('vscr.apdu.history') ?? '');
    expect(stored).toContain('0020008108????????????????');
    expect(stored).not.toContain('31323334');
    await page.$eval('#transcript', (e) => e.scrollIntoView());
    await screenshot(page, 'transcript');
    expect(problems.errors).toEqual([]);
  });

  it('a one-shot sw fault armed from the form answers the next console APDU, is listed, then gone; a persistent one is disarmed', async () => {
    await page.select('#fault-reader', '0');
    await page.select('#fault-kind', 'sw');
    expect(await page.$eval('#fault-delay', (e) => (e.parentElement as HTMLElement).hidden)).toBe(true);
    await page.type('#fault-sw', '6A82');
    await page.click('#fault-form button[type="submit"]');
    await page.waitForSelector('#fault-list li.fault');
    expect(await page.$eval('#fault-list li.fault', (e) => e.textContent ?? '')).toMatch(/^#\d+ sw 6A82 on the next APDUone-shotseen 0, fired 0Disarm$/);
    const armed = await rest(svc.url, 'GET', '/v1/readers/0/faults');
    expect((armed.body as { faults: { kind: string; once: boolean }[] }).faults).toMatchObject([{ kind: 'sw', once: true }]);
    await page.$eval('#faults', (e) => e.scrollIntoView());
    await screenshot(page, 'faults');

    // The card still ran GET CHALLENGE (8 bytes came back); only the status word was replaced.
    const hit = await sendFromConsole(page, 'GET CHALLENGE');
    expect(hit.sw).toBe('6A82');
    expect(hit.response).toMatch(/^[0-9A-F]{16}$/);
    expect(hit.meaning).toBe('error: file or application not found');
    await page.waitForSelector('#fault-list li.placeholder');
    expect((await rest(svc.url, 'GET', '/v1/readers/0/faults')).body).toEqual({ faults: [] });
    expect((await sendFromConsole(page, 'GET CHALLENGE')).sw).toBe('9000');

    await page.select('#fault-kind', 'mute');
    await page.click('#fault-persistent');
    await page.type('#fault-match', '00 ca');
    await page.click('#fault-form button[type="submit"]');
    await page.waitForFunction(() => /^#\d+ mute on command 00ca…persistent/.test(document.querySelector('#fault-list li.fault')?.textContent ?? ''));
    expect((await rest(svc.url, 'GET', '/v1/readers/0/faults')).body).toMatchObject({ faults: [{ kind: 'mute', once: false, trigger: { match: '00ca' } }] });
    await page.click('#fault-list li.fault button');
    await page.waitForSelector('#fault-list li.placeholder');
    expect((await rest(svc.url, 'GET', '/v1/readers/0/faults')).body).toEqual({ faults: [] });
    await page.click('#fault-persistent');
    await page.select('#fault-kind', 'sw');
    expect(problems.errors).toEqual([]);
  });

  it('a PIN-pad reader added from the form shows its keypad; a queued PIN and a typed PIN answer pyscard\'s VERIFY_PIN_DIRECT', async () => {
    // The form still holds the forum-broken reader's choices.
    await page.select('#add-variant', 'correct');
    await page.$eval('#add-vendor', (e) => ((e as HTMLInputElement).value = ''));
    await page.click('#add-pinpad');
    await page.click('#add-reader button[type="submit"]');
    await page.waitForSelector('li.slot .pinpad');
    await page.click('#add-pinpad');
    const { body } = await rest(svc.url, 'GET', '/v1/readers');
    const pad = (body as { readers: { index: number; name: string; pinpad?: boolean }[] }).readers.find((r) => r.pinpad === true);
    expect(pad).toBeDefined();
    const { index, name } = pad as { index: number; name: string };
    const box = `${slot(name)} .pinpad`;
    await page.waitForFunction((sel: string) => document.querySelector(sel)?.textContent === 'idle: no PIN asked for', {}, `${box} [data-role="pinpad-status"]`);
    // No entry runs: the keys are off.
    expect(await page.$$eval(`${box} .keys button`, (bs) => bs.map((b) => (b as HTMLButtonElement).disabled))).toEqual(Array(13).fill(true));
    await page.click(`${slot(name)} button[data-key="${index}-card"]`);
    await waitForCard(page, name, true);

    // Queued ahead: the next entry is answered at once.
    await page.type(`${box} [data-role="pinpad-queue"]`, '1234');
    await page.click(`${box} form button[type="submit"]`);
    await page.waitForFunction((sel: string) => document.querySelector(sel)?.textContent === 'idle: no PIN asked for; 1 queued', {}, `${box} [data-role="pinpad-status"]`);
    expect(await page.$eval(`${box} [data-role="pinpad-queue"]`, (e) => (e as HTMLInputElement).value)).toBe('');
    expect((await rest(svc.url, 'GET', `/v1/readers/${index}/pinpad`)).body).toMatchObject({ pinpad: { prompting: false, queued: 1 } });
    const queued = Watched.spawn(PYTHON, [PINPAD_VERIFY, name], svc.env);
    try {
      await queued.waitFor(/"step": "verified", "rv": 0, "response": "9000"/);
    } finally {
      await queued.stop();
    }

    // Typed on the keypad while pyscard waits in SCardControl.
    const typed = Watched.spawn(PYTHON, [PINPAD_VERIFY, name], svc.env);
    try {
      await typed.waitFor(/"step": "verifying"/);
      await page.waitForFunction((sel: string) => document.querySelector(sel)?.textContent === 'waiting for PIN: 0 digit(s) entered', {}, `${box} [data-role="pinpad-status"]`);
      for (const d of '1234') await page.click(`${box} button[data-pad-key="${d}"]`);
      await page.waitForFunction((sel: string) => document.querySelector(sel)?.textContent === 'waiting for PIN: 4 digit(s) entered', {}, `${box} [data-role="pinpad-status"]`);
      // Only the count shows: no field or text holds the digits typed.
      expect(await page.$$eval(`${box} input`, (es) => es.map((e) => (e as HTMLInputElement).value))).toEqual(['']);
      await page.$eval(box, (e) => e.scrollIntoView());
      await screenshot(page, 'pinpad-waiting');
      await page.click(`${box} button[data-pad-key="OK"]`);
      await typed.waitFor(/"step": "verified", "rv": 0, "response": "9000"/);
    } finally {
      await typed.stop();
    }
    await page.waitForFunction((sel: string) => document.querySelector(sel)?.textContent === 'idle: no PIN asked for', {}, `${box} [data-role="pinpad-status"]`);
    expect(problems.errors).toEqual([]);
  });

  it('reads at phone width without sideways scrolling (and in the dark scheme)', async () => {
    await page.setViewport({ width: 390, height: 844 });
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector(slot(READER_1));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
    await screenshot(page, 'phone');
    // The new views close up at phone width (a full-page shot is too tall to read).
    for (const [sel, name] of [['li.slot .pinpad', 'phone-pinpad'], ['#transcript', 'phone-transcript'], ['#faults', 'phone-faults']]) {
      const el = await page.$(sel);
      expect(el, sel).not.toBeNull();
      await el?.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) as `${string}.png` });
    }
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
    await page.setViewport({ width: 1280, height: 900 });
    await screenshot(page, 'desktop-dark');
    await page.emulateMediaFeatures([]);
    expect(problems.errors).toEqual([]);
  });
});

describe.skipIf(g.skip)('control panel with an access token', () => {
  const TOKEN = 'panel-test-token';
  let svc: TestService;
  let browser: Browser;

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    svc = await startTestService({ token: TOKEN });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await svc?.close();
  });

  it('is refused without the token, asks for it once, then uses it for REST and the event stream', async () => {
    const { page } = await openPage(browser);
    await page.goto(`${svc.url}/`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.$eval('#app', (e) => (e as HTMLElement).hidden)).toBe(true);
    expect(await page.$$('li.slot')).toHaveLength(0);
    // The page's own requests without the token are refused.
    const statuses = await page.evaluate(async () => Promise.all(['/v1/readers', '/v1/events', '/metrics'].map(async (p) => (await fetch(p)).status)));
    expect(statuses).toEqual([401, 401, 401]);
    await screenshot(page, 'token-login');

    await page.type('#login-token', 'wrong');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('login-error')?.textContent === 'The service refused this token.');
    expect(await page.$$('li.slot')).toHaveLength(0);

    await page.type('#login-token', TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForSelector(slot(READER_1));
    await page.waitForFunction(() => document.getElementById('live')?.textContent === 'live');
    // The token stays out of URLs: the event stream went with a header.
    expect(await page.evaluate(() => performance.getEntriesByType('resource').some((e) => e.name.includes('access_token')))).toBe(false);

    // Live over the authenticated stream: an insert from outside shows.
    const res = await fetch(`${svc.url}/v1/readers/1/card`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(201);
    await waitForCard(page, READER_1, true);

    // Asked once: a reload in the same tab goes straight in.
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector(slot(READER_1));
    expect(await page.$eval('#login', (e) => (e as HTMLElement).hidden)).toBe(true);

    // The console's WebSocket carries the token too.
    await page.select('#apdu-reader', READER_0);
    const challenge = await sendFromConsole(page, 'GET CHALLENGE');
    expect(challenge.sw).toBe('9000');
  });
});
