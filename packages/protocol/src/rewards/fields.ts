/**
 * Objects whose fields are made on read (rows over columns) that should read like plain data: a
 * class's getters are not enumerable, so for-in and deep-equality helpers would not see them.
 */

/** Makes the named getters of `cls`'s prototype enumerable (for-in and deep equality list them). */
export function enumerableGetters(cls: { readonly prototype: object }, names: readonly string[]): void {
  for (const name of names) {
    const d = Object.getOwnPropertyDescriptor(cls.prototype, name);
    if (d?.get === undefined) throw new TypeError(`${name} is not a getter of ${String(cls)}`);
    Object.defineProperty(cls.prototype, name, { ...d, enumerable: true });
  }
}
