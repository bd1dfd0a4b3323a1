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
// malloc'd buffer and frees it before returning. Hashing just under 32 MiB this way sets the thresholds to their
// dynamic maximum, about 32 and 64 MiB, for the rest of the process. Other C libraries simply skip it.
//
// Why the maximum: a worker thread's arena lives in 64 MiB heaps, and with a 32 MiB trim threshold a heap that
// the garbage collector had just emptied was still cut back (MADV_DONTNEED) and faulted in again. On a VM where a
// first touch costs ~25 µs per page (perf: page-faults), a 1 MiB in-place decrypt went from ~1.9 ms to ~0.7 ms
// median and ~80k to ~64k faults over 600 requests. The priming runs on the first device worker, after its first
// command of 1 MiB or more, so the host thread is not blocked by it (it touches 64 MiB: a few hundred ms on such a
// VM) and an idle service does not keep what it leaves resident.

import { createHash } from 'node:crypto';

/** Above glibc's default 128 KiB mmap threshold, just below its 32 MiB cap on the dynamic one (with the chunk header). */
const PRIMING_BYTES = 32 * 1024 * 1024 - 64 * 1024;

let primed = false;

/**
 * Raises glibc's malloc trim threshold for this process (see the comment at the top of this file). Idempotent;
 * returns true the first time, when it did the work. Setting MALLOC_TRIM_THRESHOLD_ (or MALLOC_TOP_PAD_) in the
 * environment turns glibc's dynamic thresholds off, and then this changes nothing.
 */
export function primeAllocatorForDma(): boolean {
  if (!claimAllocatorPriming()) return false;
  runAllocatorPriming();
  return true;
}

/** True the first time in this thread (on Linux): the caller then has the priming done, e.g. by a device worker. */
export function claimAllocatorPriming(): boolean {
  if (primed || process.platform !== 'linux') return false;
  primed = true;
  return true;
}

/** The priming itself, from any thread of the process (glibc's thresholds are process-wide). */
export function runAllocatorPriming(): void {
  createHash('sha1').update('\0'.repeat(PRIMING_BYTES), 'latin1').digest();
}
