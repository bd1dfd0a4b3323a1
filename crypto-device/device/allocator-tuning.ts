// One-time tuning of glibc's malloc for the device's allocation pattern, done from JavaScript.
//
// node:crypto's Cipher.update returns every 64 KiB chunk's output in a freshly allocated buffer. The garbage
// collector frees those buffers in batches. With glibc's default 128 KiB trim threshold, each batch lets the
// worker's arena give its top pages back to the kernel. The next allocations then fault those pages in again and
// zero them. `perf` showed page faults, clear_page and memset taking about a fifth of the worker's time on AES
// requests. With the trim threshold raised (MALLOC_TRIM_THRESHOLD_), the same requests ran 1.5x (encrypt) and 2x
// (decrypt) faster through the device.
//
// A process cannot set mallopt() from JavaScript. glibc adjusts its thresholds by itself, though: when a chunk
// that was served by mmap (anything above the current mmap threshold and at most 32 MiB) is freed, the mmap
// threshold becomes that chunk's size and the trim threshold twice that. The sure way to malloc and free such a
// chunk from JS is a string argument to a native call. Hash.update(string, 'latin1') decodes the string into a
// malloc'd buffer and frees it before returning. Hashing 16 MiB this way sets the thresholds to about 16 and
// 32 MiB for the rest of the process. That costs about 30 ms, once. Other C libraries simply pay those 30 ms.

import { createHash } from 'node:crypto';

/** Above glibc's default 128 KiB mmap threshold, below its 32 MiB cap on the dynamic one. */
const PRIMING_BYTES = 16 * 1024 * 1024;

let primed = false;

/**
 * Raises glibc's malloc trim threshold for this process (see the comment at the top of this file). Idempotent;
 * returns true the first time, when it did the work. Setting MALLOC_TRIM_THRESHOLD_ (or MALLOC_TOP_PAD_) in the
 * environment turns glibc's dynamic thresholds off, and then this changes nothing.
 */
export function primeAllocatorForDma(): boolean {
  if (primed || process.platform !== 'linux') return false;
  primed = true;
  createHash('sha1').update('\0'.repeat(PRIMING_BYTES), 'latin1').digest();
  return true;
}
