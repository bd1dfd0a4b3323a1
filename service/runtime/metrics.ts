// In-process counters and gauges rendered as Prometheus text (exposition format 0.0.4) for GET /metrics.

type Labels = Record<string, string | number>;

/** One sample's value, held by reference so a Counter handle can bump it without a lookup. */
interface Sample {
  value: number;
}

interface Family {
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, Sample>;
  /** Counts kept by the layer that does the work, read at scrape time and added to the samples of equal labels. */
  sources: (() => Iterable<CountedSample>)[];
}

/** One sample a counter source reports: its labels and the count so far. */
export interface CountedSample {
  labels: Labels;
  value: number;
}

/** A counter with fixed labels, resolved once: inc() on a hot path is a field update, not a label key. */
export interface Counter {
  inc(by?: number): void;
}

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
}

/** A tiny registry: enough for counters and gauges without a dependency. */
export class Metrics {
  private readonly families = new Map<string, Family>();
  private readonly collectors: (() => void)[] = [];

  private family(name: string, help: string, type: Family['type']): Family {
    let f = this.families.get(name);
    if (f === undefined) {
      f = { help, type, values: new Map(), sources: [] };
      this.families.set(name, f);
    }
    return f;
  }

  /** Declares a family so it is listed (with no samples) before the first increment. */
  declare(name: string, help: string, type: Family['type']): void {
    this.family(name, help, type);
  }

  private sample(f: Family, key: string): Sample {
    let s = f.values.get(key);
    if (s === undefined) {
      s = { value: 0 };
      f.values.set(key, s);
    }
    return s;
  }

  /**
   * inc() per request (HTTP status, device operations): the sample found by a plain concatenation of the
   * labels as given, so the sorted, escaped Prometheus key is built once per label set, not on every call.
   * Holds one entry per sample, like the families themselves.
   */
  private readonly bySpelling = new Map<string, Sample>();

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    let spelling = name;
    for (const k in labels) spelling += `\u0000${k}\u0001${labels[k]}`;
    let s = this.bySpelling.get(spelling);
    if (s === undefined) {
      s = this.sample(this.family(name, help, 'counter'), labelKey(labels));
      this.bySpelling.set(spelling, s);
    }
    s.value += by;
  }

  /**
   * The counter `name{labels}` as a handle for hot paths. The sample appears in render() at its first inc(),
   * exactly as with inc(name, …).
   */
  counter(name: string, help: string, labels: Labels = {}): Counter {
    const f = this.family(name, help, 'counter');
    const key = labelKey(labels);
    let s: Sample | null = null;
    return {
      inc: (by = 1) => {
        s ??= this.sample(f, key);
        s.value += by;
      },
    };
  }

  set(name: string, help: string, labels: Labels, value: number): void {
    this.sample(this.family(name, help, 'gauge'), labelKey(labels)).value = value;
  }

  /**
   * A counter family fed by counts another layer keeps (the reader bus's APDUs, the device library's operations):
   * `read` runs at each scrape, so the work itself pays nothing for /metrics. Its samples appear once reported,
   * and add to any sample with the same labels counted here with inc() (REST and the card on one device op).
   */
  addCounterSource(name: string, help: string, read: () => Iterable<CountedSample>): void {
    this.family(name, help, 'counter').sources.push(read);
  }

  /** Gauges computed at scrape time (readers, cards present). */
  addCollector(collect: () => void): void {
    this.collectors.push(collect);
  }

  get(name: string, labels: Labels = {}): number {
    const f = this.families.get(name);
    return f === undefined ? 0 : (this.samplesOf(f).get(labelKey(labels)) ?? 0);
  }

  /** The family's own samples with its sources' added, in first-seen order. */
  private samplesOf(f: Family): Map<string, number> {
    const out = new Map<string, number>();
    for (const [key, { value }] of f.values) out.set(key, value);
    for (const read of f.sources) {
      for (const { labels, value } of read()) {
        const key = labelKey(labels);
        out.set(key, (out.get(key) ?? 0) + value);
      }
    }
    return out;
  }

  render(): string {
    for (const collect of this.collectors) collect();
    const lines: string[] = [];
    for (const [name, f] of [...this.families].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const [key, value] of this.samplesOf(f)) lines.push(key === '' ? `${name} ${value}` : `${name}{${key}} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

export const METRIC = {
  httpRequests: ['vscr_http_requests_total', 'HTTP requests by method, route and status code'],
  httpBadRequests: ['vscr_http_rejected_requests_total', 'HTTP requests answered with a 4xx status'],
  deviceOps: ['vscr_device_operations_total', 'Crypto device operations by device, operation and caller'],
  deviceBytes: ['vscr_device_bytes_total', 'Bytes of input handed to the crypto device by device and operation'],
  deviceErrors: ['vscr_device_errors_total', 'Crypto device operations that failed, by NTSTATUS name'],
  apdus: ['vscr_apdus_total', 'Command APDUs transmitted to virtual cards'],
  apduBytes: ['vscr_apdu_bytes_total', 'APDU bytes by direction (command, response)'],
  readers: ['vscr_readers', 'Virtual readers on the bus'],
  readersPublished: ['vscr_readers_published', 'Readers the resource manager publishes to clients'],
  cardsPresent: ['vscr_cards_present', 'Virtual readers holding a card'],
  sseClients: ['vscr_sse_clients', 'Connected /v1/events streams'],
  pcscSessions: ['vscr_pcsc_sessions', 'Open PC/SC client sessions (pcsc-lite connections, JSON-RPC sockets, internal)'],
  pcscContexts: ['vscr_pcsc_contexts', 'Established PC/SC contexts'],
  pcscCardHandles: ['vscr_pcsc_card_handles', 'Connected PC/SC card handles'],
  uptime: ['vscr_uptime_seconds', 'Seconds since the service started'],
} as const;
