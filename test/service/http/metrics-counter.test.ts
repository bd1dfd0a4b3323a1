// The /metrics registry's counter handles: the same samples as inc(name, labels), shown only once counted.

import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../service/runtime/metrics.js';

describe('Metrics counter handles', () => {
  it('add to the very sample inc() addresses, and appear in the text only after the first increment', () => {
    const m = new Metrics();
    const response = m.counter('vscr_test_bytes_total', 'Bytes by direction', { direction: 'response' });
    expect(m.render()).toBe('# HELP vscr_test_bytes_total Bytes by direction\n# TYPE vscr_test_bytes_total counter\n');
    response.inc(5);
    m.inc('vscr_test_bytes_total', 'Bytes by direction', { direction: 'response' }, 2);
    response.inc();
    m.inc('vscr_test_bytes_total', 'Bytes by direction', { direction: 'command' }, 4);
    expect(m.get('vscr_test_bytes_total', { direction: 'response' })).toBe(8);
    expect(m.render()).toBe(
      [
        '# HELP vscr_test_bytes_total Bytes by direction',
        '# TYPE vscr_test_bytes_total counter',
        'vscr_test_bytes_total{direction="response"} 8',
        'vscr_test_bytes_total{direction="command"} 4',
        '',
      ].join('\n'),
    );
  });

  it('keeps gauges and label-less counters as before', () => {
    const m = new Metrics();
    m.counter('vscr_test_total', 'Things').inc();
    m.set('vscr_test_gauge', 'A gauge', {}, 3);
    m.set('vscr_test_gauge', 'A gauge', {}, 1);
    expect(m.render()).toBe('# HELP vscr_test_gauge A gauge\n# TYPE vscr_test_gauge gauge\nvscr_test_gauge 1\n# HELP vscr_test_total Things\n# TYPE vscr_test_total counter\nvscr_test_total 1\n');
  });

  it('inc() with the same labels in another order, or again later, adds to one sample', () => {
    const m = new Metrics();
    m.inc('vscr_test_ops_total', 'Ops', { device: 0, op: 'sha256' });
    m.inc('vscr_test_ops_total', 'Ops', { op: 'sha256', device: 0 }, 2);
    m.inc('vscr_test_ops_total', 'Ops', { device: '0', op: 'sha256' });
    m.inc('vscr_test_ops_total', 'Ops', { device: 1, op: 'a"b' });
    expect(m.render()).toBe(
      ['# HELP vscr_test_ops_total Ops', '# TYPE vscr_test_ops_total counter', 'vscr_test_ops_total{device="0",op="sha256"} 4', 'vscr_test_ops_total{device="1",op="a\\"b"} 1', ''].join('\n'),
    );
  });
});
