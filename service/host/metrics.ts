// In-process counters and gauges rendered as Prometheus text (exposition format 0.0.4) for GET /metrics.

type Labels = Record<string, string | number>;

interface Family {
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, number>;
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
      f = { help, type, values: new Map() };
      this.families.set(name, f);
    }
    return f;
  }

  /** Declares a family so it is listed (with no samples) before the first increment. */
  declare(name: string, help: string, type: Family['type']): void {
    this.family(name, help, type);
  }

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const f = this.family(name, help, 'counter');
    const key = labelKey(labels);
    f.values.set(key, (f.values.get(key) ?? 0) + by);
  }

  set(name: string, help: string, labels: Labels, value: number): void {
    this.family(name, help, 'gauge').values.set(labelKey(labels), value);
  }

  /** Gauges computed at scrape time (readers, cards present). */
  addCollector(collect: () => void): void {
    this.collectors.push(collect);
  }

  get(name: string, labels: Labels = {}): number {
    return this.families.get(name)?.values.get(labelKey(labels)) ?? 0;
  }

  render(): string {
    for (const collect of this.collectors) collect();
    const lines: string[] = [];
    for (const [name, f] of [...this.families].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const [key, value] of f.values) lines.push(key === '' ? `${name} ${value}` : `${name}{${key}} ${value}`);
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
  uptime: ['vscr_uptime_seconds', 'Seconds since the service started'],
} as const;
