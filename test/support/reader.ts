// Builds a bus with one reader for tests and exposes the implementation (extension, device faults).

import { createReaderBus } from '../../smcard/reader/bus.js';
import type { ReaderDriverVariant, ReaderFileHandle, VirtualReaderOptions } from '../../smcard/reader/contract.js';
import type { VirtualReaderImpl } from '../../smcard/reader/virtual-reader.js';

export function newReader(variant: ReaderDriverVariant = 'correct', options: VirtualReaderOptions = {}) {
  const bus = createReaderBus();
  const reader = bus.addReader({ ...options, variant }) as VirtualReaderImpl;
  const h: ReaderFileHandle = reader.device.open();
  return { bus, reader, h, ext: reader.extension };
}
