// Argument checks in the noble style: TypeError for the wrong type, RangeError for the wrong length, naming the argument.

/** Asserts `value` is a Uint8Array (of `length` bytes when given) and returns it. */
export function abytes(value: unknown, length: number | undefined, title: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${title}: expected Uint8Array, got ${typeof value}`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${title}: expected ${length} bytes, got ${value.length}`);
  }
  return value;
}
